package server

import "github.com/labstack/echo/v4"

// registerAPIRoutes adds every route of the JSON API under api (/api),
// in the order of docs/API.md. Every route but signing up and in needs a
// signed-in caller; what each caller may do is the services' business.
func (s *Server) registerAPIRoutes(api *echo.Group) {
	// Accounts, sessions, tokens, invites and the backup.
	api.POST("/auth/signup", s.handleSignup)
	api.POST("/auth/login", s.handleLogin)
	api.POST("/auth/logout", s.handleLogout)
	api.GET("/me", s.handleMe)
	api.PATCH("/me", s.handleMeUpdate)
	api.POST("/me/password", s.handlePasswordChange)
	api.GET("/tokens", s.handleTokenList)
	api.POST("/tokens", s.handleTokenCreate)
	api.DELETE("/tokens/:id", s.handleTokenDelete)
	api.POST("/invites", s.handleInviteCreate)
	api.GET("/users", s.handleUserList)
	api.GET("/admin/backup", s.handleBackup)
	api.GET("/admin/mail", s.handleAdminMail, signedIn)

	// Spaces, their members and decision rules.
	spaces := api.Group("/spaces", signedIn)
	spaces.GET("", s.handleSpaceList)
	spaces.POST("", s.handleSpaceCreate)
	spaces.GET("/:id", s.handleSpaceGet)
	spaces.GET("/:id/members", s.handleMemberList)
	spaces.POST("/:id/members", s.handleMemberSet)
	spaces.DELETE("/:id/members/:user", s.handleMemberRemove)
	spaces.GET("/:id/rules", s.handleRulesGet)
	spaces.PATCH("/:id/rules", s.handleRulesPatch)
	spaces.GET("/:id/export.tar.gz", s.handleSpaceExport)

	// Documents, their versions, live sessions and event stream.
	docs := api.Group("/docs", signedIn)
	docs.GET("", s.handleDocList)
	docs.POST("", s.handleDocCreate)
	docs.GET("/:id", s.handleDocGet)
	docs.PATCH("/:id", s.handleDocUpdate)
	docs.DELETE("/:id", s.handleDocDelete)
	docs.GET("/:id/html", s.handleDocHTML)
	docs.POST("/:id/edits", s.handleDocEdit)
	docs.POST("/:id/tasks", s.handleDocTask)
	docs.GET("/:id/history", s.handleDocHistory)
	docs.GET("/:id/versions/:v", s.handleDocVersion)
	docs.GET("/:id/diff", s.handleDocDiff)
	docs.GET("/:id/sessions", s.handleDocRecordings)
	docs.GET("/:id/markers", s.handleDocMarkers)
	docs.POST("/:id/visit", s.handleVisitPost)
	docs.GET("/:id/events/stream", s.handleDocEventStream)

	// Search.
	search := api.Group("/search", signedIn)
	search.GET("", s.handleSearch)
	search.GET("/suggest", s.handleSuggest)

	// The decision process: lifecycle, reviews and ownership. Route-level
	// middleware: a second group middleware on /docs would take over the
	// not-found routes of the document group.
	process := api.Group("/docs")
	mw := []echo.MiddlewareFunc{signedIn, validDocID}
	process.GET("/:id/lifecycle", s.handleLifecycleGet, mw...)
	process.POST("/:id/transition", s.handleTransition, mw...)
	process.GET("/:id/reviews", s.handleReviewList, mw...)
	process.POST("/:id/reviews", s.handleReviewCreate, mw...)
	process.GET("/:id/handoffs", s.handleHandoffList, mw...)
	process.POST("/:id/owner", s.handleOwnerSet, mw...)

	// Action items and minutes.
	api.GET("/docs/:id/actions", s.handleDocActions, signedIn)
	api.GET("/docs/:id/minutes", s.handleMinutes, signedIn)
	api.GET("/docs/:id/minutes/records", s.handleMinutesRecords, signedIn)

	// Threads and comments.
	api.GET("/docs/:id/threads", s.handleThreadList, signedIn)
	api.POST("/docs/:id/threads", s.handleThreadCreate, signedIn)
	threads := api.Group("/threads", signedIn)
	threads.GET("/:id", s.handleThreadGet)
	threads.POST("/:id/comments", s.handleCommentCreate)
	threads.POST("/:id/resolve", s.handleThreadResolve)
	threads.POST("/:id/reopen", s.handleThreadReopen)
	api.POST("/docs/:id/suggestions", s.handleSuggestionCreate, signedIn)
	api.POST("/suggestions/:id/accept", s.handleSuggestionAccept, signedIn)
	api.POST("/suggestions/:id/reject", s.handleSuggestionReject, signedIn)
	comments := api.Group("/comments", signedIn)
	comments.PATCH("/:id", s.handleCommentUpdate)
	comments.DELETE("/:id", s.handleCommentDelete)

	// The activity feed and the inbox.
	api.GET("/activity", s.handleActivity, signedIn)
	api.GET("/inbox", s.handleInbox, signedIn)
	api.POST("/inbox/read", s.handleInboxRead, signedIn)
	api.POST("/inbox/done", s.handleInboxDone, signedIn)

	// Webhooks (space admins).
	api.GET("/spaces/:id/webhooks", s.handleWebhookList, signedIn)
	api.POST("/spaces/:id/webhooks", s.handleWebhookCreate, signedIn)
	api.DELETE("/webhooks/:id", s.handleWebhookDelete, signedIn)

	// Document templates (read by members, changed by space admins).
	api.GET("/spaces/:id/templates", s.handleTemplateList, signedIn)
	api.POST("/spaces/:id/templates", s.handleTemplateCreate, signedIn)
	api.GET("/spaces/:id/templates/:tid", s.handleTemplateGet, signedIn)
	api.PATCH("/spaces/:id/templates/:tid", s.handleTemplateUpdate, signedIn)
	api.DELETE("/spaces/:id/templates/:tid", s.handleTemplateDelete, signedIn)
	api.GET("/webhooks/:id/deliveries", s.handleDeliveryList, signedIn)
}
