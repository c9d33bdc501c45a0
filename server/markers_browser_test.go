package server_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestHistoryMarkersOnSlider opens the history of the scripted RFC of
// TestHistoryMarkers as Bob: a tick on the slider's track for each
// marker, placed at its version, and a click on a tick replays that
// version with the marker named in the version's line.
func TestHistoryMarkersOnSlider(t *testing.T) {
	s := newEdServer(t)
	_, _, _, doc := markersScript(t, s.e)
	bob := s.window("Bob")
	bob.do(chromedp.Navigate(s.ts.URL + "/d/" + doc + "/history?v=1"))
	bob.waitJS(`!document.querySelector(".replay-slider").hidden && document.querySelectorAll(".replay-ticks .tick").length === 5`, 10*time.Second)
	got := evalT[string](bob, `[...document.querySelectorAll(".replay-ticks .tick")].map(e => e.className.replace("tick tick-", "") + "@" + e.dataset.v + ":" + e.style.left).join(" ")`)
	want := "review@1:33.3333% approval@2:66.6667% approval@3:100% last-call@3:100% decision@3:100%"
	if got != want {
		t.Errorf("ticks = %q; want %q", got, want)
	}
	// The ticks sit over the track, not beside it.
	if !evalT[bool](bob, `(() => { const r = document.getElementById("replay-range").getBoundingClientRect(), k = document.querySelector(".replay-ticks .tick-approval").getBoundingClientRect();
		return k.left > r.left && k.right < r.right && k.top >= r.bottom - 2 && k.top < r.bottom + 20 })()`) {
		t.Errorf("the approval tick is not under the slider")
	}
	bob.click(`.replay-ticks .tick-approval[data-v="2"]`)
	bob.waitJS(`document.getElementById("replay-range").value === "2" && document.getElementById("replay-meta").textContent.includes("Approval by Bob")`, 10*time.Second)
	bob.waitJS(`document.querySelector('#replay-markers li[data-v="2"]').classList.contains("is-current")`, 10*time.Second)
	if got := evalT[string](bob, `document.getElementById("since-approval").getAttribute("href")`); got != "/d/"+doc+"/history?from=2&to=3#diff-h" {
		t.Errorf("since-approval link = %q", got)
	}
	bob.screenshot("history-markers")
	bob.checkConsole()
}
