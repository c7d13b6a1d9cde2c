// Package users is the user domain: sign-up, authentication, profiles,
// admin listing and import, keeping each local user in step with its Vonage
// user (the Provisioner, its jobs and the Reconciler), and token issuance
// (Tokens: each OAuth grant, the token pair a sign-up or password change
// hands out, admin-minted user tokens, and bearer authentication).
package users
