package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	cdpnetwork "github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/brightspots-nic/brightspots/web/idp"
)

// TestResumableUploadInABrowserSurvivesGoingOffline: a publisher uploads a video from the practice
// page over a slow link; the network is cut halfway (DevTools offline). The page says the upload is
// paused until the connection is back, offers Resume, passes axe and fits 360 px while paused; when
// the network returns the upload continues from where it stopped (not from zero); the teacher
// pauses and resumes it once more, and it finishes.
func TestResumableUploadInABrowserSurvivesGoingOffline(t *testing.T) {
	n := newTestNode(t)
	if _, err := idp.AddUser(context.Background(), n.srv.Repo().Bucket(), "pia@riverside.example", "publisher", "math-4", wsPassword); err != nil {
		t.Fatal(err)
	}
	id := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON("Number line talks, filmed")).json(t)["id"].(string)
	video := pdfOf(12<<20, 7)
	copy(video, []byte{0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 2, 0, 'i', 's', 'o', 'm', 'm', 'p', '4', '1'})
	sum := sha256.Sum256(video)
	file := wsFile(t, "lesson.mp4", video)

	ctx := browser(t)
	watch := tpWatchBrowser(t, ctx)
	wsSignIn(t, ctx, n.url, "pia@riverside.example")
	wsDo(t, ctx, "open the practice", chromedp.Navigate(n.url+"/workspace/practices/"+id+"/edit"), chromedp.WaitVisible(`#f-file`))
	if _, err := chromedp.Call(ctx, cdpnetwork.Enable, cdpnetwork.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	// What DevTools' network panel does: throttle or cut every request, and tell the page
	// (navigator.onLine and the online/offline events).
	link := func(offline bool, bytesPerSecond float64) {
		t.Helper()
		if _, err := chromedp.Call(ctx, cdpnetwork.EmulateNetworkConditionsByRule, cdpnetwork.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*cdpnetwork.Conditions{{Offline: offline, DownloadThroughput: -1, UploadThroughput: bytesPerSecond}},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(ctx, cdpnetwork.OverrideNetworkState, cdpnetwork.OverrideNetworkStateParams{
			Offline: offline, DownloadThroughput: -1, UploadThroughput: bytesPerSecond,
		}); err != nil {
			t.Fatal(err)
		}
	}
	link(false, 1<<20) // a school link: 1 MiB/s, so 12 MiB take a while

	wsDo(t, ctx, "start the upload", chromedp.SetUploadFiles(`#f-file`, []string{file}), chromedp.Click(`form.ws-upload button[type=submit]`))
	wsWait(t, ctx, "a quarter of the upload", `document.getElementById("upload-progress").value >= 25`)
	link(true, -1)
	wsWaitText(t, ctx, `.ws-upload-status`, "Paused — will continue when you are back online.")
	if vis, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[".ws-pause", ".ws-resume"].map(s => document.querySelector(s).offsetParent === null ? "hidden" : "shown").join(" ")`)); vis != "hidden shown" {
		t.Errorf("while offline: Pause, Resume are %q, want only Resume offered", vis)
	}
	checkAccessibility(t, ctx, "upload-paused")
	tpCheckReflow(t, ctx, "upload-paused")
	screenshot(t, ctx, "upload-paused")
	// The node keeps what arrived before the connection dropped.
	var held int64
	for deadline := time.Now().Add(30 * time.Second); held == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		held = n.srv.Uploads().Held()
	}
	if held == 0 || held >= int64(len(video)) {
		t.Errorf("the node holds %d of %d bytes after the network dropped", held, len(video))
	}

	// Back online (still slow): the upload continues by itself; then the teacher pauses and resumes.
	link(false, 1<<20)
	wsWait(t, ctx, "the upload to continue past the drop", `document.getElementById("upload-progress").value >= 50`)
	wsDo(t, ctx, "pause", chromedp.Click(`.ws-pause`))
	wsWaitText(t, ctx, `.ws-upload-status`, "Paused. Choose Resume to continue.")
	if focused, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.className`)); !strings.Contains(focused, "ws-resume") {
		t.Errorf("after Pause the focus is on %q, not Resume", focused)
	}
	link(false, -1)
	wsDo(t, ctx, "resume", chromedp.Click(`.ws-resume`))
	tpWaitURL(t, ctx, "uploaded=")
	wsWaitText(t, ctx, `main .notice.ok`, "Uploaded lesson.mp4.")
	got := n.do("math", "GET", "/api/v1/artifacts/"+hex.EncodeToString(sum[:]), nil)
	if got.status != 200 || sha256.Sum256(got.body) != sum {
		t.Fatalf("the uploaded video: %d, %d bytes", got.status, len(got.body))
	}
	logs := n.logs.String()
	if c := strings.Count(logs, `"method":"POST","route":"/api/v1/uploads/"`); c != 1 {
		t.Errorf("%d uploads were started, want one resumed", c)
	}
	if !strings.Contains(logs, `"method":"HEAD","route":"/api/v1/uploads/:id","status":200`) {
		t.Error("the page did not ask where to resume from")
	}
	t.Logf("held %d of %d bytes when the network dropped", held, len(video))
	watch.check(t, ctx, "after the upload")
}
