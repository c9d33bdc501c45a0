package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/docket-dev/docket/internal/browsertest"
)

// In headless Chromium, a person clicks "Sign in with Acme ID" on the
// login page of the page they wanted, passes through the provider and
// lands on that page signed in as the account the provider made.
func TestSSOBrowserSignIn(t *testing.T) {
	se := newSSOEnv(t)
	se.op.SetPerson(adaID)
	browser := browsertest.Start(t)
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // the window, for the whole test
		t.Fatalf("open window: %v", err)
	}
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(c, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	wait := func(js string) {
		t.Helper()
		if err := browsertest.Wait(ctx, js, 20*time.Second); err != nil {
			c, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			text, _ := chromedp.Run(c, chromedp.Evaluate[string]("location.href + '\\n' + document.body.innerText"))
			t.Fatalf("waiting for %s: %v\n%s", js, err, text)
		}
	}
	run("open /inbox", chromedp.Navigate(se.http.URL+"/inbox"))
	wait(`location.pathname === "/login" && document.readyState === "complete"`)
	wait(browsertest.Clickable("#sso-login"))
	run("click Sign in with Acme ID", chromedp.Click(chromedp.CSS("#sso-login"), chromedp.NodeVisible))
	wait(`location.pathname === "/inbox" && document.readyState === "complete"`)
	wait(`fetch("/api/me").then(r => r.json()).then(u => u.email === "ada@acme.test" && u.name === "Ada Lovelace")`)
	wait(`document.body.innerText.includes("Ada Lovelace")`)
}
