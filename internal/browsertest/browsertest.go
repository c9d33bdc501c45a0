// Package browsertest starts headless Chromium for browser tests and
// waits in its pages for states, not for a guessed while. A test skips
// when no Chromium is installed, except in CI (CI=true), where it fails:
// CI installs Debian's chromium.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/docket-dev/docket/internal/testenv"
)

// Path finds a Chromium or Chrome binary ($DOCKET_CHROMIUM first), or
// returns "".
func Path() string {
	if p := os.Getenv("DOCKET_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Start starts headless Chromium for the test and returns its root
// context, stopped when the test ends; windows with their own cookies are
// made from it with chromedp.NewContext.
func Start(t testing.TB) context.Context {
	t.Helper()
	path := Path()
	if path == "" {
		testenv.Missing(t, "Chromium is not installed (apt-get install chromium, or set DOCKET_CHROMIUM)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// Wait waits until the JavaScript expression js (a value or a promise of
// one) is truthy in the page of ctx, for at most d, and returns the last
// error if it never is. A navigation meanwhile is no error: the wait goes
// on in the new page.
func Wait(ctx context.Context, js string, d time.Duration) error {
	expr := "Promise.resolve(" + js + ").then(v => !!v)"
	var last error
	ok := testenv.Eventually(d, func() bool {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		v, err := chromedp.Run(c, chromedp.Evaluate[bool](expr, chromedp.EvalAwaitPromise))
		last = err
		return err == nil && v
	})
	if ok {
		return nil
	}
	if last == nil {
		last = fmt.Errorf("still false after %v", d)
	}
	return last
}

// Clickable returns JavaScript that is true once a click at the centre of
// the element sel finds would reach it: it is in the viewport, the topmost
// element there, and has not moved over two animation frames. An element
// the page places after it is made (an editor tooltip starts off screen
// until the next measure; a panel moves as the margin is laid out) is
// found before it is where a click aims. An element of the page's flow
// whose centre is below or above the viewport is scrolled into view (not
// one in a fixed box, such as a tooltip waiting to be placed).
func Clickable(sel string) string {
	return fmt.Sprintf(`(async () => {
		const el = document.querySelector(%q);
		if (!el) return false;
		const frame = () => new Promise(r => requestAnimationFrame(() => r()));
		const r0 = el.getBoundingClientRect(), y0 = r0.top + r0.height / 2;
		if (y0 < 0 || y0 >= innerHeight) {
			for (let e = el; e; e = e.parentElement) if (getComputedStyle(e).position === "fixed") return false;
			el.scrollIntoView({block: "nearest"});
			return false;
		}
		await frame();
		await frame();
		const r = el.getBoundingClientRect();
		if (!el.isConnected || r.width === 0 || r.height === 0 || r.left !== r0.left || r.top !== r0.top) return false;
		const x = r.left + r.width / 2, y = r.top + r.height / 2;
		if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) return false;
		const hit = document.elementFromPoint(x, y);
		return hit === el || el.contains(hit);
	})()`, sel)
}

// Settled is JavaScript that is true once the page has stopped changing
// its layout: the fonts are loaded and the size of the document and of
// its body's first level stayed the same over three animation frames, so
// that what a script does on load (a margin laid out, a list filled) is
// done.
const Settled = `(async () => {
	await document.fonts.ready;
	const frame = () => new Promise(r => requestAnimationFrame(() => r()));
	const size = () => {
		const d = document.documentElement;
		return [d.scrollWidth, d.scrollHeight, ...[...document.body.children].map(e => {
			const r = e.getBoundingClientRect();
			return r.left + "," + r.top + "," + r.width + "," + r.height;
		})].join(" ");
	};
	let last = size(), same = 0;
	for (let i = 0; i < 300 && same < 3; i++) {
		await frame();
		const now = size();
		same = now === last ? same + 1 : 0;
		last = now;
	}
	return same >= 3;
})()`
