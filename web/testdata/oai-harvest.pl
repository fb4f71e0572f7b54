#!/usr/bin/perl
# Harvests an OAI-PMH repository with the HTTP::OAI library (Debian libhttp-oai-perl), the way an
# aggregator would: Identify, then ListRecords following every resumption token. Prints one line per
# record: identifier, datestamp, status ("deleted" or "-"), title ("-" for deleted records).
#
#   perl oai-harvest.pl BASE_URL METADATA_PREFIX [FROM]
use strict;
use warnings;
use HTTP::OAI;
use HTTP::OAI::Metadata::OAI_DC;

binmode(STDOUT, ':encoding(UTF-8)');
my ($base, $prefix, $from) = @ARGV;
die "usage: $0 BASE_URL METADATA_PREFIX [FROM]\n" unless $base && $prefix;

my $h = HTTP::OAI::Harvester->new(baseURL => $base);
my $id = $h->Identify;
die "Identify failed: " . $id->code . " " . $id->message . "\n" if $id->is_error;
print STDERR "repository: ", $id->repositoryName, " granularity ", $id->granularity, "\n";

my %args = (metadataPrefix => $prefix);
$args{from} = $from if defined $from;
my $n = 0;
my $r = $h->ListRecords(
	%args,
	handlers => { metadata => 'HTTP::OAI::Metadata::OAI_DC' },
	onRecord => sub {
		my $rec = shift;
		my $status = $rec->is_deleted ? 'deleted' : '-';
		my $title = '-';
		if (!$rec->is_deleted && $rec->metadata) {
			my $t = $rec->metadata->dc->{title};
			$title = $t && @$t ? $t->[0] : '';
		}
		printf "%s\t%s\t%s\t%s\n", $rec->identifier, $rec->datestamp, $status, $title;
		$n++;
	},
);
die "ListRecords failed: " . $r->code . " " . $r->message . "\n" if $r->is_error;
for my $e ($r->errors) {
	die "ListRecords error: " . $e->code . " " . $e->message . "\n" unless $e->code eq 'noRecordsMatch';
}
print STDERR "harvested $n records\n";
