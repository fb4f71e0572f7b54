package practices_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
)

// TestScoreTablesAreNotMaterials: a table of student rows cannot leave the district as an artifact,
// whatever it is called; ordinary text and documents can.
func TestScoreTablesAreNotMaterials(t *testing.T) {
	r := openRepo(t, newBucket(t))
	ctx := context.Background()
	refused := []struct{ name, body string }{
		{"scores.csv", "name,pre,post\nAna Smith,55,61\nBo Li,60,70\n"},
		{"scores.txt", "name,pre,post\nAna Smith,55,61\nBo Li,60,70\n"},
		{"roster.txt", "Ana Smith\t55\t61\nBo Li\t60\t70\nCy Ho\t58\t66\n"},
		{"semi.txt", "student;pre;post\r\nAna;55;61\r\nBo;60;70\r\n"},
		{"anything.CSV", "just one line of text"},
		{"data.tsv", "a\tb\n"},
	}
	for _, c := range refused {
		_, err := r.StoreArtifact(ctx, c.name, strings.NewReader(c.body), 1<<20)
		var ae *practices.ArtifactError
		if !errors.As(err, &ae) || ae.Rule != "score_table" {
			t.Errorf("%s stored as a material: %v", c.name, err)
		}
	}
	allowed := []struct{ name, body string }{
		{"notes.txt", "We met on Tuesday, Wednesday and Friday.\nStudents, teachers and coaches joined.\nIt went well.\n"},
		{"plan.txt", "1. Draw a number line.\n2. Place the cards.\n"},
		{"one-line.txt", "a,b,c\n"},
	}
	for _, c := range allowed {
		if _, err := r.StoreArtifact(ctx, c.name, strings.NewReader(c.body), 1<<20); err != nil {
			t.Errorf("%s refused: %v", c.name, err)
		}
	}
}

// storeBoth stores body under name through both upload paths (streamed, and with a declared digest)
// and returns their errors.
func storeBoth(t *testing.T, r *practices.Repo, name string, body []byte) (streamed, digest error) {
	t.Helper()
	ctx := context.Background()
	_, streamed = r.StoreArtifact(ctx, name, bytes.NewReader(body), 8<<20)
	sum := sha256.Sum256(body)
	_, digest = r.StoreArtifactDigest(ctx, name, bytes.NewReader(body), int64(len(body)), hex.EncodeToString(sum[:]), 8<<20)
	return streamed, digest
}

func wantRule(t *testing.T, what string, err error, rule string) {
	t.Helper()
	var ae *practices.ArtifactError
	if !errors.As(err, &ae) || ae.Rule != rule {
		t.Errorf("%s: got %v, want an artifact error %q", what, err, rule)
	}
}

// A roster hidden after prose, anywhere in a text file, is found: the whole file is scanned as it
// streams, not its first 512 bytes (issue 12, item 6).
func TestScoreTableAnywhereInText(t *testing.T) {
	r := openRepo(t, newBucket(t))
	prose := strings.Repeat("Students worked in pairs and explained their thinking to each other aloud. ", 10) + "\n"
	roster := "name,dob,score\nAlice Smith,2015-03-02,55\nBo Li,2015-07-19,61\nCy Ho,2014-11-30,58\n"
	numbers := "12\t55\t61\n13\t60\t70\n14\t58\t66\n15\t49\t52\n"
	refused := map[string]string{
		"roster after 700 bytes of prose":   prose + roster,
		"roster after 300 KB of prose":      strings.Repeat(prose, 400) + roster + prose,
		"two-row roster with a name header": prose + "student,pre,post\nAna,55,61\n" + prose,
		"score rows in the middle":          prose + numbers + prose,
		"CRLF roster":                       prose + strings.ReplaceAll(roster, "\n", "\r\n"),
		"names only, under a name header":   prose + "first name;last name;grade\nAna;Li;B\nBo;Ho;C\n",
	}
	for name, body := range refused {
		s, d := storeBoth(t, r, "handout.txt", []byte(body))
		wantRule(t, name+" (streamed)", s, "score_table")
		wantRule(t, name+" (digest)", d, "score_table")
	}
	allowed := map[string]string{
		"long prose with commas": strings.Repeat("We met on Tuesday, Wednesday and Friday; students, teachers and coaches joined.\n"+
			"It went well, mostly: two groups finished early, one late.\n\n", 3000),
		"numbered steps":     "1. Draw a number line.\n2. Place the cards, then explain.\n3. Compare, and record.\n",
		"one delimited line": "a,b,c\n" + prose,
	}
	for name, body := range allowed {
		if s, d := storeBoth(t, r, "notes.txt", []byte(body)); s != nil || d != nil {
			t.Errorf("%s refused: %v / %v", name, s, d)
		}
	}
	objs, err := r.Bucket().List(context.Background(), storage.ListOptions{Prefix: "artifacts/"})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != len(allowed) {
		var keys []string
		for _, o := range objs {
			keys = append(keys, o.Key)
		}
		t.Errorf("stored %d objects, want the %d allowed files only: %v", len(objs), len(allowed), keys)
	}
}

// Spreadsheets can hold student rows the text scan cannot read: they are refused as materials.
func TestSpreadsheetsAreNotMaterials(t *testing.T) {
	r := openRepo(t, newBucket(t))
	zip := []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00" + strings.Repeat("\x00", 40))
	ole := append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 60)...)
	for name, body := range map[string][]byte{"scores.xlsx": zip, "scores.ods": zip, "scores.xls": ole, "scores.xlsm": zip} {
		s, d := storeBoth(t, r, name, body)
		wantRule(t, name, s, "media_type")
		wantRule(t, name+" (digest)", d, "media_type")
	}
	if s, _ := storeBoth(t, r, "plan.docx", zip); s != nil {
		t.Errorf("a word-processing document was refused: %v", s)
	}
}

// The media type comes from the name and the content together: active and executable names are
// refused even when their bytes sniff as plain text, and a name that does not match the content is
// refused (issue 12, item 8).
func TestMediaTypeFromNameAndContent(t *testing.T) {
	r := openRepo(t, newBucket(t))
	text := []byte("Just some harmless looking words.\n")
	for _, ext := range []string{".html", ".htm", ".svg", ".js", ".hta", ".bat", ".cmd", ".ps1", ".exe", ".msi", ".scr",
		".vbs", ".jar", ".sh", ".lnk", ".xhtml", ".mjs", ".wsf", ".com", ".pif", ".reg", ".docm", ".HTML", ".txt.exe"} {
		s, d := storeBoth(t, r, "lesson"+ext, text)
		wantRule(t, ext, s, "media_type")
		wantRule(t, ext+" (digest)", d, "media_type")
	}
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 40)...)
	pdf := []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
	mismatched := []struct {
		name string
		body []byte
	}{{"photo.pdf", png}, {"plan.png", pdf}, {"notes.pdf", text}, {"notes", text}, {"photo.txt", png}}
	for _, m := range mismatched {
		s, _ := storeBoth(t, r, m.name, m.body)
		wantRule(t, m.name, s, "media_type")
	}
	fine := []struct {
		name string
		body []byte
	}{{"photo.png", png}, {"Photo.PNG", png}, {"plan.pdf", pdf}, {"notes.txt", text}, {"notes.md", text}}
	for _, f := range fine {
		if s, d := storeBoth(t, r, f.name, f.body); s != nil || d != nil {
			t.Errorf("%s refused: %v / %v", f.name, s, d)
		}
	}
}

// Bidirectional controls and other format characters in a name can make "gpj.exe" read as
// "exe.jpg"; they are refused (issue 12, item 8).
func TestFormatCharactersInNames(t *testing.T) {
	for _, name := range []string{"report\u202Efdp.exe", "a\u202Db.pdf", "a\u2066b.pdf", "a\u200Bb.pdf", "a\u200Eb.pdf",
		"a\uFEFFb.pdf", "a\u061Cb.pdf", "a\u2028b.pdf", "a\u00ADb.pdf"} {
		err := practices.CheckFileName(name)
		wantRule(t, fmt.Sprintf("%+q", name), err, "format")
	}
	for _, name := range []string{"lesson plan.pdf", "Übung 3 – Brüche.pdf", "数学.pdf", "plan (v2).txt"} {
		if err := practices.CheckFileName(name); err != nil {
			t.Errorf("%q refused: %v", name, err)
		}
	}
}
