package main

import (
	"fmt"
	"io"
	"strings"
)

// walkthrough is the one text of the walkthrough: `sdkauth dev` prints its
// sections one after the other, and the README shows each as a shell block
// with the default addresses (TestREADMEShowsTheWalkthroughAsPrinted keeps
// them the same; TestDevWalkthroughRunsAsPrinted runs them). Placeholders:
// {{BASE}} is sdkauth, {{VONAGE}} the Vonage API (the emulator), {{ENV}} the
// environment file dev writes.
var walkthrough = []string{walkthroughUser, walkthroughAdmin, walkthroughChat, walkthroughOperator}

const walkthroughUser = `# 1. Sign a new user up: 201 with a Client SDK JWT and a refresh token
curl -s {{BASE}}/v1/signup -H 'Content-Type: application/json' \
  -d '{"username":"new-user","password":"correct horse battery","display_name":"A New User"}'

# 2. Log in and keep the tokens
RESP=$(curl -s {{BASE}}/v1/token -d grant_type=password -d username=new-user -d 'password=correct horse battery')
ACCESS=$(echo "$RESP" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
REFRESH=$(echo "$RESP" | sed -E 's/.*"refresh_token":"([^"]+)".*/\1/')

# 3. Who am I? The access token is also sdkauth's own bearer credential
curl -s {{BASE}}/v1/me -H "Authorization: Bearer $ACCESS"

# 4. The same token is the user's credential at Vonage (here, the emulator)
curl -s "{{VONAGE}}/v1/users?name=new-user" -H "Authorization: Bearer $ACCESS"

# 5. Refresh: a new pair; the old refresh token is spent
curl -s {{BASE}}/v1/token -d grant_type=refresh_token -d "refresh_token=$REFRESH"

# 6. The public key that verifies every token (RFC 7517, kid = RFC 7638 thumbprint)
curl -s {{BASE}}/.well-known/jwks.json`

const walkthroughAdmin = `# 7. The environment of this run for the sdkauth commands (make run built ./bin/sdkauth):
#    DATABASE_URL, SDKAUTH_KEY_ENCRYPTION_KEY, VONAGE_APPLICATION_ID, VONAGE_API_URL,
#    VONAGE_API_KEY, VONAGE_API_SECRET and VONAGE_PRIVATE_KEY_PATH
source {{ENV}}

# 8. Look inside the access token: Vonage's rules, and the signature checked with the application key
./bin/sdkauth jwt inspect --key "$VONAGE_PRIVATE_KEY_PATH" "$ACCESS"

# 9. A backend service and admin tool: create a client (its secret is shown once), then get an admin JWT
CLIENT=$(./bin/sdkauth clients create --name backend --scopes admin,tokens:admin,tokens:user --output json)
CLIENT_ID=$(echo "$CLIENT" | sed -E 's/.*"client_id":"([^"]+)".*/\1/')
CLIENT_SECRET=$(echo "$CLIENT" | sed -E 's/.*"client_secret":"([^"]+)".*/\1/')
./bin/sdkauth clients list
curl -s {{BASE}}/v1/token -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials

# 10. The admin API: list users (cursor-paginated), mint a token for one
curl -s "{{BASE}}/v1/admin/users?page_size=10" -u "$CLIENT_ID:$CLIENT_SECRET"
USER_ID=$(curl -s "{{BASE}}/v1/admin/users?username=new-user" -u "$CLIENT_ID:$CLIENT_SECRET" | sed -E 's/.*"id":"([^"]+)".*/\1/')
curl -s -X POST "{{BASE}}/v1/admin/users/$USER_ID/token" -u "$CLIENT_ID:$CLIENT_SECRET" -H 'Content-Type: application/json' -d '{"ttl":600}'`

// walkthroughChat is the workshop's flow on the Conversation API with
// sdkauth's tokens, against the emulator. It continues from step 10, with
// CLIENT_ID and CLIENT_SECRET set.
const walkthroughChat = `# 11. The backend creates a conversation with an admin JWT from client_credentials
ADMIN=$(curl -s {{BASE}}/v1/token -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
CONV=$(curl -s {{VONAGE}}/v1/conversations -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
  -d '{"name":"general","display_name":"General"}' | sed -E 's/.*"id":"(CON-[^"]+)".*/\1/')
echo "$CONV"

# 12. Two users sign up; each joins the conversation with its own Client SDK JWT
TOKEN_A=$(curl -s {{BASE}}/v1/signup -H 'Content-Type: application/json' \
  -d '{"username":"chat-user-a","password":"correct horse battery"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
TOKEN_B=$(curl -s {{BASE}}/v1/signup -H 'Content-Type: application/json' \
  -d '{"username":"chat-user-b","password":"correct horse battery"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
MEMBER_A=$(curl -s {{VONAGE}}/v1/conversations/$CONV/members -H "Authorization: Bearer $TOKEN_A" -H 'Content-Type: application/json' \
  -d '{"state":"joined","user":{"name":"chat-user-a"}}' | sed -E 's/.*"id":"(MEM-[^"]+)".*/\1/')
MEMBER_B=$(curl -s {{VONAGE}}/v1/conversations/$CONV/members -H "Authorization: Bearer $TOKEN_B" -H 'Content-Type: application/json' \
  -d '{"state":"joined","user":{"name":"chat-user-b"}}' | sed -E 's/.*"id":"(MEM-[^"]+)".*/\1/')

# 13. They send text events, and list the conversation's messages
curl -s {{VONAGE}}/v1/conversations/$CONV/events -H "Authorization: Bearer $TOKEN_A" -H 'Content-Type: application/json' \
  -d '{"type":"message","from":"'"$MEMBER_A"'","body":{"message_type":"text","text":"Hello from A"}}'
curl -s {{VONAGE}}/v1/conversations/$CONV/events -H "Authorization: Bearer $TOKEN_B" -H 'Content-Type: application/json' \
  -d '{"type":"message","from":"'"$MEMBER_B"'","body":{"message_type":"text","text":"Hello from B"}}'
curl -s "{{VONAGE}}/v1/conversations/$CONV/events?event_type=message" -H "Authorization: Bearer $TOKEN_A"

# 14. A user on a GET-only policy reads the conversation (200) but cannot post to it (403)
curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -X PUT {{BASE}}/v1/admin/policies/read-only -H 'Content-Type: application/json' \
  -d '{"acl":{"paths":{"/*/users/**":{"methods":["GET"]},"/*/conversations/**":{"methods":["GET"]}}},"max_ttl":3600}'
curl -s {{BASE}}/v1/admin/users -u "$CLIENT_ID:$CLIENT_SECRET" -H 'Content-Type: application/json' \
  -d '{"username":"chat-reader","password":"correct horse battery","policy":"read-only"}'; echo
TOKEN_R=$(curl -s {{BASE}}/v1/token -d grant_type=password -d username=chat-reader -d 'password=correct horse battery' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
curl -s -o /dev/null -w '%{http_code}\n' "{{VONAGE}}/v1/conversations/$CONV/events" -H "Authorization: Bearer $TOKEN_R"
curl -s -w '%{http_code}\n' {{VONAGE}}/v1/conversations/$CONV/events -H "Authorization: Bearer $TOKEN_R" -H 'Content-Type: application/json' \
  -d '{"type":"message","from":"'"$MEMBER_A"'","body":{"message_type":"text","text":"not allowed"}}'

# 15. Point a Client SDK app at the emulator: examples/chat (see its README) does
#     setConfig({apiUrl: '{{VONAGE}}', websocketUrl: '{{VONAGE}}'}) and gets its JWT from {{BASE}}/v1/token`

// walkthroughOperator runs the operator's commands against this run, with
// the environment of step 7. The rotation comes last: it ends the Vonage
// validity of every token handed out before it.
const walkthroughOperator = `# 16. The stored signing keys, and every local user compared with the application's Vonage users
./bin/sdkauth keys list
./bin/sdkauth users reconcile

# 17. Rotate the application key: a new key, its public half uploaded to the application,
#     and the running server switches to it; the previous key stays listed until its tokens expire
./bin/sdkauth keys rotate
./bin/sdkauth keys list

# 18. Vonage keeps one public key per application: a token signed before the rotation now gets 401
#     there, and the app recovers by refreshing (the Client SDK's refreshSession)
curl -s -o /dev/null -w '%{http_code}\n' "{{VONAGE}}/v1/users?name=new-user" -H "Authorization: Bearer $ACCESS"`

// walkthroughSections are the walkthrough's sections with the placeholders
// filled in: sdkauth at base (host:port), the Vonage API at vonage, and the
// environment file.
func walkthroughSections(base, vonage, envFile string) []string {
	r := strings.NewReplacer("{{BASE}}", base, "{{VONAGE}}", vonage, "{{ENV}}", shellWord(envFile))
	out := make([]string, len(walkthrough))
	for i, s := range walkthrough {
		out[i] = r.Replace(s)
	}
	return out
}

// printWalkthrough prints what `sdkauth dev` says once it listens: where
// everything is, then the walkthrough, indented.
func printWalkthrough(out io.Writer, base, vonage, appID, envFile string) {
	fmt.Fprintf(out, "\nsdkauth is running at http://%s\n  Vonage API: %s   application: %s\n", base, vonage, appID)
	fmt.Fprintf(out, "  The sdkauth commands' environment for this run: %s (removed when dev stops)\n", envFile)
	fmt.Fprint(out, "\nTry it in another terminal, in this directory:\n\n")
	for _, l := range strings.Split(strings.Join(walkthroughSections(base, vonage, envFile), "\n\n"), "\n") {
		if l != "" {
			l = "  " + l
		}
		fmt.Fprintln(out, l)
	}
	fmt.Fprint(out, "\nCtrl-C stops everything.\n")
}

// shellWord quotes s for a POSIX shell unless it needs no quoting.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:=@,+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
