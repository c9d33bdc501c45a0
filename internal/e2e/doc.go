// Package e2e holds Docket's end-to-end tests of the web app: a real
// server over a real data file, driven by headless Chromium through the
// pages and forms as a person would use them. The tests skip when no
// Chromium is installed, except under CI=true, where they fail.
package e2e
