package web

// AcceptsGzip is acceptsGzip, for the tests of package web_test.
var AcceptsGzip = acceptsGzip
