package practices_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
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
