package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// decodeJSON reads the request body into v: the content type must be JSON, unknown fields are refused
// by name, a wrong type names its field, and the body is capped at limit bytes.
func decodeJSON(c echo.Context, limit int64, v any) error {
	r := c.Request()
	if mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); mt != "application/json" {
		return fieldProblem(http.StatusUnsupportedMediaType, "content-type", "Content-Type", "one_of", "must be application/json")
	}
	body := http.MaxBytesReader(c.Response(), r.Body, limit)
	return decodeJSONReader(body, v)
}

// decodeJSONReader is the part of decodeJSON that fuzz tests reach without HTTP.
func decodeJSONReader(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return fieldProblem(http.StatusBadRequest, "malformed-json", "body", "single_value", "must hold exactly one JSON object")
	}
	return nil
}

func jsonProblem(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.Is(err, io.EOF):
		return fieldProblem(http.StatusBadRequest, "malformed-json", "body", "required", "is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fieldProblem(http.StatusBadRequest, "malformed-json", "body", "syntax", "ends in the middle of a JSON value")
	case errors.As(err, &syn):
		return fieldProblem(http.StatusBadRequest, "malformed-json", "body", "syntax", fmt.Sprintf("is not valid JSON (at byte %d)", syn.Offset))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return fieldProblem(http.StatusBadRequest, "wrong-type", field, "type", fmt.Sprintf("must be %s, not a JSON %s", jsonTypeName(typ.Type.String()), typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if name == "" {
			return fieldProblem(http.StatusBadRequest, "unknown-field", "body", "unknown_field", `has a field with an empty name ("")`)
		}
		return fieldProblem(http.StatusBadRequest, "unknown-field", name, "unknown_field", fmt.Sprintf("is not a field of this record (unknown field %q)", name))
	}
	return fieldProblem(http.StatusBadRequest, "malformed-json", "body", "syntax", "is not valid JSON")
}

func jsonTypeName(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "float"), strings.HasPrefix(goType, "uint"):
		return "a number"
	case goType == "bool":
		return "true or false"
	}
	return "an object"
}
