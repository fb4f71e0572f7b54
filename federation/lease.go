package federation

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/brightspots-nic/brightspots/storage"
)

// The sync lease. Several replicas of one node may share a bucket (docs/architecture.md); they must not all pull
// from every peer, or each peer change would be fetched, verified and applied once per replica. So the
// sync loops run in one replica at a time: the one holding the lease object node/state/sync-lease.json.
//
//   - Acquire: a replica that finds no lease object creates it with a create-only put; one that finds
//     a released lease, or one whose ETag has not changed for leaseTTL by its own clock, replaces it
//     with a compare-and-swap (If-Match on the ETag it read). Of replicas racing, one wins.
//   - Hold: the holder rewrites the object every leaseRenew with If-Match on the ETag of its own last
//     write. A lost swap means another replica took over: the holder stops its sync loops at once. A
//     holder that cannot reach the store stops them once leaseTTL−2·leaseRenew has passed since its
//     last successful write, before any other replica may take over (see below).
//   - Take-over: expiry is judged by the observer's own monotonic clock — "this ETag has not changed
//     for leaseTTL since I first saw it" — never by comparing timestamps written by another machine,
//     so clock skew between replicas does not matter. A replica first sees an ETag after it was
//     written, and its holder counted from before the write, so the holder has stopped before anyone
//     takes over (unless the holder's process is frozen for longer than leaseTTL; then a page may be
//     applied twice, which is harmless: applying is idempotent and state-based).
//   - Release: on a clean shutdown the holder marks the lease released, so a restarted or surviving
//     replica takes over at once. After a crash (SIGKILL) takeover waits out leaseTTL: ≤ 15 s plus
//     one poll.
//
// Notifications. A peer's POST /federation/v1/notify reaches whichever replica the load balancer
// picks. In the holder it wakes that peer's sync loop directly. In any other replica it is forwarded
// through the store: the replica writes node/state/sync-wake/{peer-id}.json (with a nonce, so the
// ETag always changes), and the holder lists that folder every wakePoll and wakes the loop of each
// peer whose object changed. So a notify costs at most wakePoll of extra latency wherever it lands,
// and the poll interval remains the fallback if the store is unreachable.
//
// Token replay. The (iss, jti) cache that refuses a replayed node token (token.go) is per process, so
// with replicas a token replayed to another replica within its life (≤ 60 s) is not caught. A node
// token is bound to one method and URL and the endpoints are read-only or idempotent (the feed, a
// record, an artifact, a notify), so a replay repeats a request the peer itself was allowed to make.
// Closing it would take a create-only put of each jti into the store: one write per federation request.
//
// Cost in store requests while peers are configured: the holder makes one conditional PUT every
// leaseRenew and one LIST every wakePoll; every other replica one GET every leaseRenew. A node with
// no peers takes no lease.
const (
	leaseKey    = "node/state/sync-lease.json"
	wakePrefix  = "node/state/sync-wake/"
	leaseTTL    = 15 * time.Second
	leaseRenew  = 3 * time.Second
	wakePoll    = time.Second
	releaseWait = 5 * time.Second
)

// leaseRecord is the lease object. Times are the writer's clock, for people reading it; takeover
// does not depend on them.
type leaseRecord struct {
	Holder     string    `json:"holder"`
	AcquiredAt time.Time `json:"acquired_at"`
	RenewedAt  time.Time `json:"renewed_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Released   bool      `json:"released,omitempty"`
}

// syncLease is one replica's view of the lease.
type syncLease struct {
	bucket storage.Bucket
	holder string
	now    func() time.Time
	log    *slog.Logger

	ttl, renew, wakePoll time.Duration

	// while held
	etag       string
	acquiredAt time.Time
	renewedAt  time.Time // monotonic reading taken just before our last successful write
	// while observing another holder
	seenETag string
	seenAt   time.Time
}

func newSyncLease(bucket storage.Bucket, now func() time.Time, log *slog.Logger) *syncLease {
	host, _ := os.Hostname()
	nonce := make([]byte, 4)
	_, _ = rand.Read(nonce)
	return &syncLease{
		bucket: bucket, now: now, log: log,
		holder: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(nonce)),
		ttl:    leaseTTL, renew: leaseRenew, wakePoll: wakePoll,
	}
}

// giveUpAfter is how long a holder keeps syncing without a successful renewal.
func (l *syncLease) giveUpAfter() time.Duration { return l.ttl - 2*l.renew }

func (l *syncLease) read(ctx context.Context) (leaseRecord, string, error) {
	rc, info, err := l.bucket.Get(ctx, leaseKey)
	if err != nil {
		return leaseRecord{}, "", err
	}
	defer rc.Close()
	var rec leaseRecord
	if err := json.NewDecoder(io.LimitReader(rc, 64<<10)).Decode(&rec); err != nil {
		// An unreadable lease is treated like anyone else's: it expires unless it changes.
		return leaseRecord{Holder: "?"}, info.ETag, nil
	}
	return rec, info.ETag, nil
}

// write puts a lease held by this replica (or released, with release) under opts' condition. It
// reports false, nil when the condition failed.
func (l *syncLease) write(ctx context.Context, opts storage.PutOptions, release bool) (bool, error) {
	start := time.Now()
	now := l.now().UTC()
	if l.etag == "" {
		l.acquiredAt = now
	}
	rec := leaseRecord{Holder: l.holder, AcquiredAt: l.acquiredAt, RenewedAt: now, ExpiresAt: now.Add(l.ttl), Released: release}
	body, err := json.Marshal(rec)
	if err != nil {
		return false, err
	}
	opts.ContentType = "application/json"
	info, err := l.bucket.Put(ctx, leaseKey, bytes.NewReader(body), int64(len(body)), opts)
	if errors.Is(err, storage.ErrConflict) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sync lease: %w", err)
	}
	l.etag, l.renewedAt = info.ETag, start
	return true, nil
}

// tryAcquire takes the lease if it is free, released, ours, or unchanged for ttl since this replica
// first saw it.
func (l *syncLease) tryAcquire(ctx context.Context) (bool, error) {
	rec, etag, err := l.read(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		l.etag = ""
		return l.write(ctx, storage.PutOptions{IfNoneMatch: true}, false)
	}
	if err != nil {
		return false, fmt.Errorf("sync lease: %w", err)
	}
	if rec.Holder != l.holder && !rec.Released {
		if etag != l.seenETag {
			l.seenETag, l.seenAt = etag, time.Now()
			return false, nil
		}
		if time.Since(l.seenAt) < l.ttl {
			return false, nil
		}
		l.log.Info("sync lease expired; taking over", "from", rec.Holder, "unchanged_for", time.Since(l.seenAt).Round(time.Second))
	}
	if rec.Holder != l.holder {
		l.etag = ""
	}
	return l.write(ctx, storage.PutOptions{IfMatch: etag}, false)
}

// keep renews the lease. It reports false when the lease is lost: another replica holds it, or the
// store has been unreachable for too long to be sure no one else does.
func (l *syncLease) keep(ctx context.Context) bool {
	ok, err := l.write(ctx, storage.PutOptions{IfMatch: l.etag}, false)
	if ok {
		return true
	}
	if err == nil {
		// The swap failed. If the object is still ours (our last write went through but its answer
		// was lost), carry on from its ETag; otherwise another replica has it.
		rec, etag, rerr := l.read(ctx)
		if rerr == nil && rec.Holder == l.holder && !rec.Released {
			l.etag = etag
			return true
		}
		if rerr == nil {
			l.log.Warn("sync lease taken over by another replica", "holder", rec.Holder)
			return false
		}
		err = rerr
	}
	if ctx.Err() != nil {
		return false
	}
	if time.Since(l.renewedAt) >= l.giveUpAfter() {
		l.log.Warn("sync lease: cannot renew; stopping sync so another replica can take over", "err", err)
		return false
	}
	l.log.Warn("sync lease: renewal failed; will retry", "err", err)
	return true
}

// release marks the lease released so another replica takes over at once.
func (l *syncLease) release(ctx context.Context) {
	if l.etag == "" {
		return
	}
	if ok, err := l.write(ctx, storage.PutOptions{IfMatch: l.etag}, true); !ok || err != nil {
		l.log.Info("sync lease: not released (it will expire)", "err", err)
	}
	l.etag = ""
}

// runLeased runs sync (the per-peer loops) only while this replica holds the sync lease, until ctx
// ends. While it does not hold it, it forwards peers' notifies to the holder through the store.
func (f *Member) runLeased(ctx context.Context, sync func(ctx context.Context)) {
	if len(f.peers) == 0 {
		return
	}
	l := newSyncLease(f.repo.Bucket(), f.now, f.log)
	f.runLease(ctx, l, sync)
}

func (f *Member) runLease(ctx context.Context, l *syncLease, sync func(ctx context.Context)) {
	for ctx.Err() == nil {
		held, err := l.tryAcquire(ctx)
		if err != nil && ctx.Err() == nil {
			f.log.Warn("sync lease", "err", err)
		}
		if !held {
			fwd, stop := context.WithTimeout(ctx, l.renew)
			f.forwardWakes(fwd, l)
			stop()
			continue
		}
		f.log.Info("sync lease acquired: this replica pulls from peers", "holder", l.holder)
		work, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); sync(work) }()
		f.holdLease(ctx, l)
		cancel()
		<-done
		if ctx.Err() != nil {
			rctx, c := context.WithTimeout(context.WithoutCancel(ctx), releaseWait)
			l.release(rctx)
			c()
			return
		}
		f.log.Warn("sync lease lost: this replica stops pulling from peers", "holder", l.holder)
	}
}

// holdLease renews the lease and relays forwarded notifies until ctx ends or the lease is lost.
func (f *Member) holdLease(ctx context.Context, l *syncLease) {
	renew := time.NewTicker(l.renew)
	defer renew.Stop()
	poll := time.NewTicker(l.wakePoll)
	defer poll.Stop()
	seen, _ := f.wakeObjects(ctx) // notifies forwarded before now are covered by the loops' first pull
	for {
		select {
		case <-ctx.Done():
			return
		case <-renew.C:
			if !l.keep(ctx) {
				return
			}
		case <-poll.C:
			cur, err := f.wakeObjects(ctx)
			if err != nil {
				continue
			}
			for id, etag := range cur {
				if seen[id] == etag {
					continue
				}
				for _, p := range f.peers {
					if p.cfg.ID == id {
						select {
						case p.wake <- struct{}{}:
						default:
						}
					}
				}
			}
			seen = cur
		}
	}
}

// wakeObjects lists the forwarded-notify objects: peer id → ETag.
func (f *Member) wakeObjects(ctx context.Context) (map[string]string, error) {
	objs, err := f.repo.Bucket().List(ctx, storage.ListOptions{Prefix: wakePrefix, Limit: 1000})
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(objs))
	for _, o := range objs {
		out[strings.TrimSuffix(strings.TrimPrefix(o.Key, wakePrefix), ".json")] = o.ETag
	}
	return out, nil
}

// forwardWakes, in a replica that does not hold the lease, turns each notify from a peer into a write
// of that peer's wake object, until ctx ends.
func (f *Member) forwardWakes(ctx context.Context, l *syncLease) {
	var wg sync.WaitGroup
	for _, p := range f.peers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-p.wake:
				}
				nonce := make([]byte, 8)
				_, _ = rand.Read(nonce)
				body, _ := json.Marshal(map[string]any{"peer": p.cfg.ID, "by": l.holder, "at": l.now().UTC(), "nonce": hex.EncodeToString(nonce)})
				wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				_, err := f.repo.Bucket().Put(wctx, wakePrefix+p.cfg.ID+".json", bytes.NewReader(body), int64(len(body)),
					storage.PutOptions{ContentType: "application/json"})
				cancel()
				if err != nil {
					f.log.Warn("forward a peer's notify to the sync lease holder", "peer", p.cfg.ID, "err", err)
				}
			}
		})
	}
	wg.Wait()
}
