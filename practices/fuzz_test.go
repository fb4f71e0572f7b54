package practices_test

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode"

	"github.com/brightspots-nic/brightspots/practices"
)

// FuzzDecodeAndValidate feeds arbitrary JSON to every record kind: decoding and validation must never
// panic, and validation must either pass or name a field and rule for each problem.
func FuzzDecodeAndValidate(f *testing.F) {
	f.Add([]byte(`{"title":"x","team":"math-4","subjects":["math"],"grade_levels":["04"]}`))
	f.Add([]byte(`{"title":"","team":"t","standards":[{"code":"4-PS3-2"}],"visibility":"peers","shared_with":["A"]}`))
	f.Add([]byte(`{"practice":{"uri":"http://a/p/1"},"cycle":"pdsa","design":"post_only_comparison","question":"q","assessment":{"score_min":5,"score_max":1,"proficiency_cut":9}}`))
	f.Add([]byte(`{"title":"c","items":[{"practice_uri":"ftp://x"},{"practice_uri":"ftp://x"}]}`))
	f.Add([]byte(`{"time_required":"PT","start_date":"2026-13-45","key_moves":["","\u0000"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, k := range practices.Kinds {
			rec := practices.NewRecord(k)
			if json.Unmarshal(data, rec) != nil {
				continue
			}
			for _, level := range []practices.Level{practices.LevelCreate, practices.LevelPublish} {
				err := practices.Validate(rec, level)
				if err == nil {
					continue
				}
				var ve *practices.ValidationError
				if !errors.As(err, &ve) || len(ve.Problems) == 0 {
					t.Fatalf("validation error without problems: %v", err)
				}
				for _, p := range ve.Problems {
					if p.Field == "" || p.Rule == "" || p.Message == "" {
						t.Fatalf("problem without field/rule/message: %+v", p)
					}
				}
			}
		}
	})
}

// FuzzFileName: a name either passes or is refused; one that passes never escapes a folder.
func FuzzFileName(f *testing.F) {
	for _, s := range []string{"plan.pdf", "../x", "a/b", `a\b`, "\x00", ".hidden", "ok name (1).docx", "ä.pdf", "fdp\u202E.exe", "a\u200Bb.pdf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if practices.CheckFileName(name) != nil {
			return
		}
		for _, bad := range []string{"/", `\`, "\x00", ".."} {
			if name == bad || (bad != ".." && contains(name, bad)) || name == ".." {
				t.Fatalf("accepted %q", name)
			}
		}
		for _, r := range name {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) {
				t.Fatalf("accepted %+q with control or format character U+%04X", name, r)
			}
		}
	})
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
