package practices_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
)

// FuzzAim feeds arbitrary JSON to the aim body parser and validator: it must never panic, every
// refusal names a field and rule, and an aim that passes keeps the driver diagram's rules — ids
// unique, a secondary driver's parent a primary one, a change idea's drivers known, the caps kept —
// so the diagram built from it places every change idea under every driver it names.
func FuzzAim(f *testing.F) {
	f.Add([]byte(`{"title":"Fractions","statement":"By June 2027, 70 %","outcome_measure":{"name":"Proficient","kind":"percent","direction":"up"},"target":{"value":70,"by":"2099-06-01"},"drivers":[{"id":"p","level":"primary","text":"P"},{"id":"s","level":"secondary","text":"S","parent":"p"}],"change_ideas":[{"id":"c","text":"C","drivers":["s","p"],"practices":["http://a.test/practices/0193a3c0-0000-7000-8000-000000000001"]}]}`))
	f.Add([]byte(`{"title":"x","drivers":[{"id":"s","level":"secondary","text":"S","parent":"s"}]}`))
	f.Add([]byte(`{"title":"x","drivers":[{"id":"p","level":"primary","text":"P","parent":"q"},{"id":"p","level":"primary","text":"P"}],"change_ideas":[{"id":"p","text":"dup","drivers":["p","p","zz"]}]}`))
	f.Add([]byte(`{"title":"x","outcome_measure":{"name":"m","kind":"mean","direction":"down","score_min":5,"score_max":1,"cut":9},"target":{"value":1e308,"by":"2026-02-30"}}`))
	f.Add([]byte(`{"title":"x","collections":["http://a.test/practices/0193a3c0-0000-7000-8000-000000000001","ftp://x"],"change_ideas":[{"id":"A B","text":"\u0000","drivers":[]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var a practices.Aim
		if json.Unmarshal(data, &a) != nil {
			return
		}
		_ = practices.CheckReceived(&a)
		for _, level := range []practices.Level{practices.LevelCreate, practices.LevelPublish} {
			err := practices.Validate(&a, level)
			if err != nil {
				var ve *practices.ValidationError
				if !errors.As(err, &ve) || len(ve.Problems) == 0 {
					t.Fatalf("validation error without problems: %v", err)
				}
				for _, p := range ve.Problems {
					if p.Field == "" || p.Rule == "" || p.Message == "" {
						t.Fatalf("problem without field/rule/message: %+v", p)
					}
				}
				continue
			}
			checkDiagram(t, &a)
		}
	})
}

func checkDiagram(t *testing.T, a *practices.Aim) {
	t.Helper()
	if len(a.Drivers) > practices.MaxAimDrivers || len(a.ChangeIdeas) > practices.MaxAimChangeIdeas {
		t.Fatalf("accepted over the caps: %d drivers, %d change ideas", len(a.Drivers), len(a.ChangeIdeas))
	}
	level := map[string]string{}
	for _, d := range a.Drivers {
		if level[d.ID] != "" {
			t.Fatalf("accepted a duplicate driver id %q", d.ID)
		}
		level[d.ID] = d.Level
	}
	for _, d := range a.Drivers {
		if d.Level == practices.DriverSecondary && level[d.Parent] != practices.DriverPrimary {
			t.Fatalf("accepted secondary %q under %q (%s)", d.ID, d.Parent, level[d.Parent])
		}
	}
	under := map[string]int{} // change idea id → drivers it hangs under in the diagram
	dd := practices.BuildDriverDiagram(a)
	for _, p := range dd.Primary {
		for _, c := range p.ChangeIdeas {
			under[c]++
		}
		for _, s := range p.Secondary {
			for _, c := range s.ChangeIdeas {
				under[c]++
			}
		}
	}
	for _, ci := range a.ChangeIdeas {
		if level[ci.ID] != "" {
			t.Fatalf("accepted change idea %q with a driver's id", ci.ID)
		}
		for _, d := range ci.Drivers {
			if level[d] == "" {
				t.Fatalf("accepted change idea %q under unknown driver %q", ci.ID, d)
			}
		}
		if under[ci.ID] != len(ci.Drivers) {
			t.Fatalf("change idea %q names %d drivers but hangs under %d in the diagram", ci.ID, len(ci.Drivers), under[ci.ID])
		}
	}
}
