package federation

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
)

func shortLease(b storage.Bucket, name string) *syncLease {
	l := newSyncLease(b, time.Now, slog.New(slog.DiscardHandler))
	l.holder += "/" + name
	l.ttl, l.renew, l.wakePoll = 300*time.Millisecond, 50*time.Millisecond, 20*time.Millisecond
	return l
}

func TestLeaseOneHolderAndTakeover(t *testing.T) {
	ctx := context.Background()
	b := fsBucket(t)
	a, c := shortLease(b, "a"), shortLease(b, "c")
	if ok, err := a.tryAcquire(ctx); !ok || err != nil {
		t.Fatalf("a free lease: %v %v", ok, err)
	}
	// While a renews, c never gets it, however long it waits.
	for end := time.Now().Add(3 * a.ttl); time.Now().Before(end); time.Sleep(a.renew) {
		if !a.keep(ctx) {
			t.Fatal("the holder lost a lease nobody else could take")
		}
		if ok, err := c.tryAcquire(ctx); ok || err != nil {
			t.Fatalf("a held lease was taken: %v %v", ok, err)
		}
	}
	// a stops renewing (it died): c takes over once the ETag has not changed for ttl.
	eventually(t, 5*time.Second, func() error {
		if ok, err := c.tryAcquire(ctx); !ok || err != nil {
			return fmt.Errorf("not taken over: %v", err)
		}
		return nil
	})
	// Never before ttl has passed since the holder's last renewal began (its own give-up point is earlier).
	if since := time.Since(a.renewedAt); since < c.ttl || a.giveUpAfter() >= c.ttl {
		t.Fatalf("taken over %v after the last renewal, ttl %v, holder gives up after %v", since, c.ttl, a.giveUpAfter())
	}
	if a.keep(ctx) {
		t.Fatal("the old holder still thinks it holds the lease")
	}
	// A clean release hands over at once.
	c.release(ctx)
	if ok, err := a.tryAcquire(ctx); !ok || err != nil {
		t.Fatalf("a released lease: %v %v", ok, err)
	}
}

// TestLeaseRunsSyncInOneReplicaAtATime runs three "replicas" on one bucket: sync work runs in exactly
// one at a time, and moves to another when its holder stops.
func TestLeaseRunsSyncInOneReplicaAtATime(t *testing.T) {
	b := fsBucket(t)
	repo, err := practices.Open(context.Background(), b, practices.Node{URL: "http://riverside.test", ID: "riverside"}, practices.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var active, maxActive atomic.Int32
	var runs [3]atomic.Int32
	cancels := make([]context.CancelFunc, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		f := &Member{repo: repo, log: slog.New(slog.DiscardHandler), now: time.Now}
		ctx, cancel := context.WithCancel(context.Background())
		cancels[i] = cancel
		l := shortLease(b, fmt.Sprint(i))
		wg.Go(func() {
			f.runLease(ctx, l, func(ctx context.Context) {
				n := active.Add(1)
				for m := maxActive.Load(); n > m && !maxActive.CompareAndSwap(m, n); m = maxActive.Load() {
				}
				runs[i].Add(1)
				<-ctx.Done()
				active.Add(-1)
			})
		})
	}
	holder := func() int {
		for i := range runs {
			if runs[i].Load() > 0 {
				return i
			}
		}
		return -1
	}
	eventually(t, 5*time.Second, func() error {
		if holder() < 0 {
			return fmt.Errorf("nobody syncs")
		}
		return nil
	})
	first := holder()
	cancels[first]()
	eventually(t, 5*time.Second, func() error {
		for i := range runs {
			if i != first && runs[i].Load() > 0 {
				return nil
			}
		}
		return fmt.Errorf("sync did not move from replica %d", first)
	})
	for _, c := range cancels {
		c()
	}
	wg.Wait()
	if m := maxActive.Load(); m != 1 {
		t.Fatalf("%d replicas synced at once", m)
	}
}

// TestLeaseForwardsNotifies: a peer's notify received by a replica without the lease wakes that
// peer's sync loop in the holder.
func TestLeaseForwardsNotifies(t *testing.T) {
	b := fsBucket(t)
	repo, err := practices.Open(context.Background(), b, practices.Node{URL: "http://riverside.test", ID: "riverside"}, practices.Options{})
	if err != nil {
		t.Fatal(err)
	}
	replica := func(name string) (*Member, *syncLease) {
		f := &Member{repo: repo, log: slog.New(slog.DiscardHandler), now: time.Now}
		for _, id := range []string{"lakeview", "hillcrest"} {
			f.peers = append(f.peers, &peer{cfg: PeerConfig{ID: id, URL: "http://" + id + ".test"}, f: f, wake: make(chan struct{}, 1)})
		}
		return f, shortLease(b, name)
	}
	holderF, holderL := replica("holder")
	otherF, otherL := replica("other")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	held := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { holderF.runLease(ctx, holderL, func(ctx context.Context) { close(held); <-ctx.Done() }) })
	<-held
	wg.Go(func() {
		otherF.runLease(ctx, otherL, func(ctx context.Context) {
			if ctx.Err() == nil { // not a takeover racing the holder's release at the end
				t.Error("two replicas hold the lease")
			}
		})
	})

	otherF.peers[0].wake <- struct{}{} // lakeview notified the replica without the lease
	select {
	case <-holderF.peers[0].wake:
	case <-time.After(5 * time.Second):
		t.Fatal("the holder's lakeview loop was not woken")
	}
	select {
	case <-holderF.peers[1].wake:
		t.Fatal("hillcrest's loop was woken by lakeview's notify")
	case <-time.After(10 * holderL.wakePoll):
	}
}
