package idp

import (
	"fmt"
	"testing"
	"time"
)

func TestThrottleBuckets(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	th := newThrottle(2, time.Minute, 1000)
	for i, want := range []bool{true, true, false} {
		if ok, _ := th.take("k", now); ok != want {
			t.Fatalf("take %d = %v, want %v", i, ok, want)
		}
	}
	if _, retry := th.take("k", now); retry != time.Minute {
		t.Errorf("retry = %v, want 1m", retry)
	}
	th.give("k", now)
	if ok, _ := th.take("k", now); !ok {
		t.Error("a token given back is not there")
	}
	if ok, _ := th.take("k", now.Add(30*time.Second)); ok {
		t.Error("half a refill period gave a whole token")
	}
	if ok, _ := th.take("k", now.Add(61*time.Second)); !ok {
		t.Error("a refill period gave no token")
	}
	th.reset("k")
	if ok, _ := th.take("k", now); !ok {
		t.Error("reset did not fill the bucket")
	}
}

// TestThrottleBounded: the map never grows past maxKeys, and forgetting keys only ever makes the
// throttle more lenient.
func TestThrottleBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	th := newThrottle(1, time.Hour, 100)
	for i := range 1000 {
		th.take(fmt.Sprint("k", i), now)
		if len(th.buckets) > 100 {
			t.Fatalf("%d keys tracked, limit 100", len(th.buckets))
		}
	}
}

func TestAddressKey(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"2001:db8:1:2:aaaa::1", "2001:db8:1:2:bbbb::2"}, // one /64
		{"::ffff:192.0.2.1", "192.0.2.1"},                // v4-mapped is v4
	} {
		if addressKey(tc.a) != addressKey(tc.b) {
			t.Errorf("%s and %s throttled apart", tc.a, tc.b)
		}
	}
	if addressKey("2001:db8:1:2::1") == addressKey("2001:db8:1:3::1") || addressKey("192.0.2.1") == addressKey("192.0.2.2") {
		t.Error("different clients share a throttle")
	}
}

func TestPasswordHash(t *testing.T) {
	h := hashPassword("the right one, long")
	if !verifyPassword(h, "the right one, long") || verifyPassword(h, "the right one, lonG") || verifyPassword(h, "") {
		t.Error("verify disagrees with hash")
	}
	if first, second := hashPassword("same"), hashPassword("same"); first == second {
		t.Error("hashes are not salted")
	}
	for _, bad := range []string{"", "$argon2id$", "$argon2i$v=19$m=19456,t=2,p=1$AAAA$AAAA", "$argon2id$v=19$m=99999999,t=2,p=1$AAAA$AAAA",
		"$argon2id$v=19$m=19456,t=0,p=1$AAAA$AAAA", "$argon2id$v=19$m=19456,t=2,p=1$!!$AAAA"} {
		if verifyPassword(bad, "x") {
			t.Errorf("verify accepted malformed hash %q", bad)
		}
	}
}
