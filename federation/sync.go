package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
)

// PeerHealth is the sync state of one peer, for `brightspots peer list`, the network page and metrics.
type PeerHealth struct {
	ID   string `json:"id"`
	URL  string `json:"url"`
	Name string `json:"name"`
	// LastSuccess is when a pull from the peer last succeeded (a page applied, or nothing new).
	LastSuccess time.Time `json:"last_success,omitzero"`
	// LastError and LastErrorAt describe the most recent failure; cleared by a success.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// CaughtUpAt is when this node last read the peer's feed to its end.
	CaughtUpAt time.Time `json:"caught_up_at,omitzero"`
	// LagSeconds is how long ago this node was last caught up with the peer (0 when it is now).
	LagSeconds float64 `json:"lag_seconds"`
	// LagRecords is how many records received from the peer are not yet applied: the items of a page
	// that failed to verify or apply, which is retried from the same cursor.
	LagRecords int `json:"lag_records"`
	// TombstonesPending is how many of those are tombstones (withdrawals this node has not yet purged).
	TombstonesPending int `json:"tombstones_pending"`
	// Applied counts documents applied since start.
	Applied uint64 `json:"applied"`
	// Backoff is the wait before the next attempt after an error.
	Backoff time.Duration `json:"backoff,omitempty"`
}

// Health returns the sync state of every peer, in configuration order.
func (f *Member) Health() []PeerHealth {
	out := make([]PeerHealth, len(f.peers))
	for i, p := range f.peers {
		out[i] = p.snapshot()
	}
	return out
}

func (p *peer) snapshot() PeerHealth {
	p.hmu.Lock()
	defer p.hmu.Unlock()
	h := p.health
	h.ID, h.URL, h.Name = p.cfg.ID, p.cfg.URL, p.cfg.Name
	if !h.CaughtUpAt.IsZero() && (h.LagRecords > 0 || h.LastErrorAt.After(h.CaughtUpAt) || h.behind) {
		h.LagSeconds = p.f.now().Sub(h.CaughtUpAt).Seconds()
	}
	return h.PeerHealth
}

// syncState is what the loop keeps about a peer in the bucket, at node/state/peers/{id}.json.
type syncState struct {
	URL       string    `json:"url"`
	Cursor    string    `json:"cursor"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (p *peer) stateKey() string { return "node/state/peers/" + p.cfg.ID + ".json" }

func (p *peer) loadCursor(ctx context.Context) (string, error) {
	rc, _, err := p.f.repo.Bucket().Get(ctx, p.stateKey())
	if errors.Is(err, storage.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read sync state of %s: %w", p.cfg.ID, err)
	}
	defer rc.Close()
	var st syncState
	if err := json.NewDecoder(io.LimitReader(rc, 64<<10)).Decode(&st); err != nil {
		return "", fmt.Errorf("decode sync state of %s: %w", p.cfg.ID, err)
	}
	if st.URL != p.cfg.URL {
		return "", nil // the id now names another node: start over
	}
	return st.Cursor, nil
}

func (p *peer) saveCursor(ctx context.Context, cursor string) error {
	body, err := json.Marshal(syncState{URL: p.cfg.URL, Cursor: cursor, UpdatedAt: p.f.now().UTC()})
	if err != nil {
		return err
	}
	if _, err := p.f.repo.Bucket().Put(ctx, p.stateKey(), bytes.NewReader(body), int64(len(body)),
		storage.PutOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("save sync cursor of %s: %w", p.cfg.ID, err)
	}
	return nil
}

// retryAfterError is a 429 or 503 with a Retry-After the loop honours.
type retryAfterError struct {
	status int
	wait   time.Duration
}

func (e *retryAfterError) Error() string {
	return fmt.Sprintf("peer answered %d, retry after %v", e.status, e.wait)
}

// syncLoop pulls pages until the feed says there is no more, then waits for the poll interval or a
// notify from the peer. Errors back off exponentially with jitter and keep the cursor.
func (p *peer) syncLoop(ctx context.Context) {
	log := p.f.log.With("peer", p.cfg.ID)
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		err := p.syncOnce(ctx)
		var wait time.Duration
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if backoff == 0 {
				backoff = p.f.backoffMin
			} else {
				backoff = min(backoff*2, p.f.backoffMax)
			}
			// full jitter in [backoff/2, backoff]
			wait = backoff/2 + rand.N(backoff/2+1)
			var ra *retryAfterError
			if errors.As(err, &ra) && ra.wait > wait {
				wait = ra.wait
			}
			log.Warn("sync failed", "err", err, "retry_in", wait)
			p.f.metrics.syncErrors.WithLabelValues(p.cfg.ID).Inc()
			p.setHealth(func(h *peerHealth) { h.LastError, h.LastErrorAt, h.Backoff = err.Error(), p.f.now(), wait })
		} else {
			backoff = 0
			wait = p.f.cfg.PollInterval
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-p.wake:
			t.Stop()
			if err != nil {
				// A notify does not cut a backoff short by more than half: a peer that just failed
				// should not be hammered because it says it has news.
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait / 2):
				}
			}
		}
	}
}

type peerHealth struct {
	PeerHealth
	behind bool
}

func (p *peer) setHealth(f func(h *peerHealth)) {
	p.hmu.Lock()
	defer p.hmu.Unlock()
	f(&p.health)
}

// syncOnce pulls and applies pages until the feed says there is no more.
func (p *peer) syncOnce(ctx context.Context) error {
	cursor, err := p.loadCursor(ctx)
	if err != nil {
		return err
	}
	for {
		page, err := p.fetchPage(ctx, cursor)
		if err != nil {
			return err
		}
		applied, err := p.applyPage(ctx, page)
		if err != nil {
			return err
		}
		if page.Next != "" && page.Next != cursor {
			// Only after the whole page is applied.
			if err := p.saveCursor(ctx, page.Next); err != nil {
				return err
			}
			cursor = page.Next
		}
		now := p.f.now()
		p.setHealth(func(h *peerHealth) {
			h.LastSuccess, h.LastError, h.Backoff, h.LagRecords, h.TombstonesPending = now, "", 0, 0, 0
			h.Applied += uint64(applied)
			h.behind = page.More
			if !page.More {
				h.CaughtUpAt = now
			}
		})
		p.f.metrics.lastSuccess.WithLabelValues(p.cfg.ID).Set(float64(now.Unix()))
		if !page.More {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// request sends an authenticated request to the peer.
func (p *peer) request(ctx context.Context, client *http.Client, method, path string, query url.Values, body []byte) (*http.Response, error) {
	u := p.cfg.URL + path
	full := u
	if len(query) > 0 {
		full += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, full, rd)
	if err != nil {
		return nil, err
	}
	tok, err := p.f.mintToken(p.cfg.URL, method, u)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("User-Agent", p.f.software+" (+"+p.f.node.URL+")")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return resp, nil
}

// statusError turns a non-success response into an error, honouring Retry-After on 429 and 503.
func statusError(resp *http.Response, what string) error {
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return &retryAfterError{status: resp.StatusCode, wait: d}
		}
	}
	return fmt.Errorf("%s: peer answered %s", what, resp.Status)
}

// parseRetryAfter reads delay-seconds or an HTTP date, capped at an hour.
func parseRetryAfter(s string, now time.Time) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	var d time.Duration
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(s); err == nil {
		d = t.Sub(now)
	} else {
		return 0, false
	}
	return max(0, min(d, time.Hour)), true
}

// fetchPage gets one page of the peer's feed after cursor and checks its form and limits.
func (p *peer) fetchPage(ctx context.Context, cursor string) (*Page, error) {
	q := url.Values{"limit": {strconv.Itoa(p.f.pageLimit)}}
	if cursor != "" {
		q.Set("after", cursor)
	}
	resp, err := p.request(ctx, p.client, http.MethodGet, "/federation/v1/changes", q, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(resp, "changes")
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("changes: read page: %w", err)
	}
	return ParsePage(body)
}

// ParsePage decodes a change-feed page received from a peer and checks its limits: at most 16 MiB,
// 1000 items, each JWS at most 1 MiB, cursors present. Signatures are checked later, item by item.
func ParsePage(body []byte) (*Page, error) {
	if len(body) > maxPageBytes {
		return nil, fmt.Errorf("page over the %d-byte limit", maxPageBytes)
	}
	var raw struct {
		Items *[]PageItem `json:"items"`
		Next  *string     `json:"next"`
		More  *bool       `json:"more"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("page: %w", err)
	}
	if raw.Items == nil || raw.Next == nil || raw.More == nil {
		return nil, errors.New("page: items, next and more are required")
	}
	page := &Page{Items: *raw.Items, Next: *raw.Next, More: *raw.More}
	if len(page.Items) > maxPageItems {
		return nil, fmt.Errorf("page of %d items is over the %d-item limit", len(page.Items), maxPageItems)
	}
	if len(page.Next) > 1024 {
		return nil, errors.New("page: cursor too long")
	}
	if page.More && page.Next == "" {
		return nil, errors.New("page: more without a next cursor")
	}
	for i, it := range page.Items {
		if it.JWS == "" {
			return nil, fmt.Errorf("page: items[%d] has no jws", i)
		}
		if len(it.JWS) > maxJWSBytes {
			return nil, fmt.Errorf("page: items[%d] is over the %d-byte limit", i, maxJWSBytes)
		}
	}
	return page, nil
}

// applyPage verifies every document of the page, and only if all pass, applies them in order.
func (p *peer) applyPage(ctx context.Context, page *Page) (int, error) {
	if len(page.Items) == 0 {
		return 0, nil
	}
	ks, err := p.keys(ctx)
	if err != nil {
		return 0, p.pending(page, fmt.Errorf("keys of %s: %w", p.cfg.ID, err))
	}
	docs := make([]*verified, len(page.Items))
	for i, it := range page.Items {
		v, err := p.verifyDocument(ctx, ks, it.JWS)
		if reason := reasonOf(err); err != nil {
			p.f.metrics.refusedItems.WithLabelValues(p.cfg.ID, reason).Inc()
			if reason == skipUnknownKind {
				// A kind a later version added (docs/protocol.md, "Additions"): skipped, the cursor advances.
				p.f.log.Info("skipped a document of a kind this version does not know", "peer", p.cfg.ID, "err", err)
				continue
			}
			p.f.log.Warn("refused a document from a peer", "peer", p.cfg.ID, "reason", reason, "item", i, "err", err)
			p.f.metrics.rejectedDocs.WithLabelValues(p.cfg.ID).Inc()
			return 0, p.pending(page, fmt.Errorf("page item %d refused (%s), page not applied: %w", i, reason, err))
		}
		docs[i] = v
	}
	applied := 0
	for i, v := range docs {
		if v == nil {
			continue
		}
		ok, err := p.f.applyDocument(ctx, v)
		if err != nil {
			return applied, p.pending(&Page{Items: page.Items[i:]}, fmt.Errorf("apply %s %s: %w", v.doc.Kind, v.doc.ID, err))
		}
		if ok {
			applied++
			p.f.metrics.applied.WithLabelValues(p.cfg.ID, opOf(v.doc.Deleted)).Inc()
		}
	}
	return applied, nil
}

func opOf(deleted bool) string {
	if deleted {
		return "delete"
	}
	return "put"
}

// pending records the items of a page that were not applied, for health, and returns err.
func (p *peer) pending(page *Page, err error) error {
	tomb := 0
	for _, it := range page.Items {
		if d, perr := peekDeleted(it.JWS); perr == nil && d {
			tomb++
		}
	}
	p.setHealth(func(h *peerHealth) { h.LagRecords, h.TombstonesPending = len(page.Items), tomb })
	return err
}

// peekDeleted reads the deleted flag of a document without verifying it (for health figures only).
func peekDeleted(raw string) (bool, error) {
	var d struct {
		Deleted bool `json:"deleted"`
	}
	err := practices.DecodeUnverifiedPayload([]byte(raw), &d)
	return d.Deleted, err
}

// applyDocument stores one verified document and keeps the artifact references and caches in step.
func (f *Member) applyDocument(ctx context.Context, v *verified) (bool, error) {
	origin, kind, id := v.doc.Origin, v.doc.Kind, v.doc.ID
	// What the held copy referenced, so artifacts only it referenced can be purged after.
	var before []practices.ArtifactRef
	if held, gone, err := f.repo.Load(ctx, origin, kind, id); err == nil && !gone {
		before = materials(held)
	} else if err != nil && !errors.Is(err, practices.ErrNotFound) {
		return false, err
	}
	after := materials(v.rec)
	// Reference markers first, so a record never names an artifact the read check cannot find.
	for _, ref := range after {
		if err := f.repo.NoteMirrorArtifact(ctx, origin, kind, id, ref); err != nil {
			return false, err
		}
	}
	ok, err := f.repo.ApplyMirror(ctx, v.jws, v.header, v.rec)
	if err != nil {
		return false, err
	}
	if !ok {
		return false, nil // an older version, or the same document again: nothing changed
	}
	// Whatever the held copy named that the new state does not (everything, for a tombstone): drop
	// this record's marker, and the cached bytes if nothing else here references them.
	var dropped []practices.ArtifactRef
	for _, b := range before {
		if !containsSum(after, b.SHA256) {
			dropped = append(dropped, b)
		}
	}
	for _, ref := range dropped {
		if err := f.purgeArtifact(ctx, origin, kind, id, ref.SHA256); err != nil {
			return ok, err
		}
	}
	return ok, nil
}

func materials(rec practices.Record) []practices.ArtifactRef {
	if pr, ok := rec.(*practices.Practice); ok && pr != nil {
		return pr.Materials
	}
	return nil
}

func containsSum(refs []practices.ArtifactRef, sum string) bool {
	for _, r := range refs {
		if r.SHA256 == sum {
			return true
		}
	}
	return false
}

// notifier sends POST /federation/v1/notify to every peer after local changes: at once for the first
// change, then at most once per debounce interval, so a burst of changes costs peers one pull and a
// single publish reaches them without waiting out the interval. Whether a round holds a change
// peers care about is decided from the change-log entries themselves (their origins and the
// records' states), never from counters of appends and mirrored documents: those move at different
// moments, and a local publish landing while a peer's document was being mirrored went unnotified.
//
// Each peer has its own sender (notifySender), so a peer that is slow to answer delays no other
// peer's notify, and a notify the peer did not take is tried again until it is (deliverNotify).
func (f *Member) notifier(ctx context.Context) {
	var senders sync.WaitGroup
	defer senders.Wait()
	for _, p := range f.peers {
		senders.Go(func() { p.notifySender(ctx) })
	}
	lastEnd := f.repo.LogEnd()
	var lastSent time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.changed:
		}
		if wait := time.Until(lastSent.Add(f.notifyDebounce)); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		// Drain a signal that arrived during the debounce: this round covers it.
		select {
		case <-f.changed:
		default:
		}
		end := f.repo.LogEnd()
		from := lastEnd
		lastEnd = end
		if end <= from || !f.peersCare(ctx, from, end) {
			// Only documents mirrored from peers, or only drafts: nothing for peers to pull. Not
			// notifying also keeps the rate window closed, so the next real change goes out at once.
			continue
		}
		lastSent = time.Now()
		for _, p := range f.peers {
			p.queueNotify(encodeCursor(end))
		}
	}
}

// notifyScanBudget bounds how many change-log entries one notifier round reads; past it, the round
// notifies (a spurious notify costs a peer one empty pull, a missed one a poll interval).
const notifyScanBudget = 2000

// peersCare reports whether the change-log entries in (from, to] include a change of this node's own
// records that a peer's feed would carry: an entry whose origin is this node, for anything but a
// draft. On any doubt (a read error, more entries than the budget) it says yes.
func (f *Member) peersCare(ctx context.Context, from, to uint64) bool {
	if to-from > notifyScanBudget {
		return true
	}
	for from < to {
		entries, err := f.repo.ReadLog(ctx, from, int(min(to-from, 1000)))
		if err != nil || len(entries) == 0 {
			return true
		}
		for _, e := range entries {
			if e.Seq > to {
				return false
			}
			from = e.Seq
			if e.Origin != f.node.URL {
				continue // a peer's document this node mirrored: its origin notifies for it
			}
			rec, gone, err := f.repo.Load(ctx, f.node.URL, e.Kind, e.ID)
			if err != nil || gone || rec.RecordMeta().Status != practices.StatusDraft {
				return true
			}
		}
	}
	return false
}

// LocalChange tells the federation the change log grew; wire it to practices.Repo.OnChange. It never
// blocks: peers are notified shortly after, once for a burst of changes.
func (f *Member) LocalChange() {
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

// queueNotify hands the sender of p a cursor to notify. A cursor still waiting is replaced: the
// newer one covers it (the peer pulls everything up to the end either way).
func (p *peer) queueNotify(cursor string) {
	for {
		select {
		case p.notifyQueue <- cursor:
			return
		default:
		}
		select {
		case <-p.notifyQueue:
		default:
		}
	}
}

// notifySender delivers the notifies queued for p, one at a time, until ctx ends.
func (p *peer) notifySender(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case cursor := <-p.notifyQueue:
			p.deliverNotify(ctx, cursor)
		}
	}
}

// deliverNotify sends one notify until the peer takes it (202). A notify that is lost leaves the
// peer waiting for its poll, so every failure a moment may fix is tried again with backoff: no
// answer in time (a loaded peer: its pull would be as slow, but it has not started one), a server
// error, and a 401 (the peer could not yet fetch this node's keys: its discovery runs once it can).
// It stops when the peer asks to be left alone (429, 503: it will poll in its own time) or refuses
// for good (another 4xx), when a newer notify is queued (that one covers this), and once a poll
// interval has passed (the peer's poll has covered it by then).
func (p *peer) deliverNotify(ctx context.Context, cursor string) {
	body, _ := json.Marshal(map[string]string{"cursor": cursor})
	giveUp := time.Now().Add(p.f.cfg.PollInterval)
	wait := p.f.backoffMin
	for attempt := 1; ; attempt++ {
		resp, err := p.request(ctx, p.client, http.MethodPost, "/federation/v1/notify", nil, body) // nil resp on error
		status := 0
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			status = resp.StatusCode
			if status == http.StatusAccepted {
				return
			}
			err = fmt.Errorf("peer answered %s", resp.Status)
		}
		// Each failed attempt is a debug line and a metric; the outcome, once per notify, is an info
		// line: a peer down for an hour would otherwise log a line per attempt of every notify.
		p.f.log.Debug("notify peer: attempt failed", "peer", p.cfg.ID, "attempt", attempt, "err", err)
		p.f.metrics.notifyFailures.WithLabelValues(p.cfg.ID).Inc()
		retry := status == 0 || status >= 500 && status != http.StatusServiceUnavailable || status == http.StatusUnauthorized
		if !retry || time.Now().Add(wait).After(giveUp) {
			p.f.log.Info("notify peer: not delivered; the peer sees the change at its next poll", "peer", p.cfg.ID, "attempts", attempt, "err", err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait/2 + rand.N(wait/2+1)):
		}
		if len(p.notifyQueue) > 0 {
			p.f.log.Debug("notify peer: superseded by a newer notify", "peer", p.cfg.ID, "attempts", attempt)
			return // a newer notify is waiting, and covers this one
		}
		wait = min(2*wait, p.f.backoffMax, 30*time.Second)
	}
}
