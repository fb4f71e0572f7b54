package practices

import (
	"strings"
	"testing"
)

// FuzzTableScanner: the scanner's verdict on a text never depends on how the stream is cut into
// reads, and it never panics or keeps more than one line.
func FuzzTableScanner(f *testing.F) {
	f.Add("name,dob,score\nAlice,2015-03-02,55\nBo,2015-07-19,61\n", 7)
	f.Add(strings.Repeat("prose, with commas, here\n", 5)+"1\t2\n3\t4\n", 3)
	f.Add("student;pre\r\nAna;55\r\n", 1)
	f.Add("a|b\n\n\n1|2\n3|4", 2)
	f.Add(strings.Repeat("x", 5000)+"\n1,2\n3,4\n", 4096)
	f.Fuzz(func(t *testing.T, text string, cut int) {
		var whole tableScanner
		_, _ = whole.Write([]byte(text))
		want := whole.finish()
		if cut <= 0 {
			cut = 1
		}
		var parts tableScanner
		for b := []byte(text); len(b) > 0; {
			n := min(cut, len(b))
			_, _ = parts.Write(b[:n])
			b = b[n:]
			if len(parts.partial) > maxTableLine {
				t.Fatalf("kept %d bytes of a line", len(parts.partial))
			}
		}
		if got := parts.finish(); got != want {
			t.Fatalf("read in pieces of %d: found %v, whole: %v", cut, got, want)
		}
	})
}

// BenchmarkTableScanner: the cost of scanning a text material as it streams (prose with commas, the
// worst ordinary case: every line is split and its cells looked at).
func BenchmarkTableScanner(b *testing.B) {
	chunk := []byte(strings.Repeat("We met on Tuesday, Wednesday and Friday; students, teachers and coaches joined.\n"+
		"It went well, mostly: two groups finished early, one late.\n\n", 200))
	b.SetBytes(int64(len(chunk)))
	var s tableScanner
	for b.Loop() {
		_, _ = s.Write(chunk)
	}
	if s.finish() {
		b.Fatal("prose taken for a table")
	}
}
