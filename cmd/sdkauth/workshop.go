package main

// workshopFlow is the second half of the walkthrough `sdkauth dev` prints (and
// the README repeats): the workshop's flow on the Conversation API with
// sdkauth's tokens, against the emulator ({{VONAGE}}). It continues from step
// 8, with CLIENT_ID and CLIENT_SECRET set.
const workshopFlow = `
  # The workshop's flow: a backend and two Client SDK users chat through the
  # (emulated) Conversation API, with sdkauth's tokens

  # 9. The backend creates a conversation with an admin JWT from client_credentials
  ADMIN=$(curl -s {{BASE}}/v1/token -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  CONV=$(curl -s {{VONAGE}}/v1/conversations -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    -d '{"name":"general","display_name":"General"}' | sed -E 's/.*"id":"(CON-[^"]+)".*/\1/')
  echo "$CONV"

  # 10. Two users sign up; each joins the conversation with its own Client SDK JWT
  TOKEN_A=$(curl -s {{BASE}}/v1/signup -H 'Content-Type: application/json' \
    -d '{"username":"chat-user-a","password":"correct horse battery"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  TOKEN_B=$(curl -s {{BASE}}/v1/signup -H 'Content-Type: application/json' \
    -d '{"username":"chat-user-b","password":"correct horse battery"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  MEMBER_A=$(curl -s {{VONAGE}}/v1/conversations/$CONV/members -H "Authorization: Bearer $TOKEN_A" -H 'Content-Type: application/json' \
    -d '{"state":"joined","user":{"name":"chat-user-a"}}' | sed -E 's/.*"id":"(MEM-[^"]+)".*/\1/')
  MEMBER_B=$(curl -s {{VONAGE}}/v1/conversations/$CONV/members -H "Authorization: Bearer $TOKEN_B" -H 'Content-Type: application/json' \
    -d '{"state":"joined","user":{"name":"chat-user-b"}}' | sed -E 's/.*"id":"(MEM-[^"]+)".*/\1/')

  # 11. They send text events, and list the conversation's messages
  curl -s {{VONAGE}}/v1/conversations/$CONV/events -H "Authorization: Bearer $TOKEN_A" -H 'Content-Type: application/json' \
    -d '{"type":"message","from":"'"$MEMBER_A"'","body":{"message_type":"text","text":"Hello from A"}}'
  curl -s {{VONAGE}}/v1/conversations/$CONV/events -H "Authorization: Bearer $TOKEN_B" -H 'Content-Type: application/json' \
    -d '{"type":"message","from":"'"$MEMBER_B"'","body":{"message_type":"text","text":"Hello from B"}}'
  curl -s "{{VONAGE}}/v1/conversations/$CONV/events?event_type=message" -H "Authorization: Bearer $TOKEN_A"

  # 12. A user on a GET-only policy reads the conversation (200) but cannot post to it (403)
  curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -X PUT {{BASE}}/v1/admin/policies/read-only -H 'Content-Type: application/json' \
    -d '{"acl":{"paths":{"/*/users/**":{"methods":["GET"]},"/*/conversations/**":{"methods":["GET"]}}},"max_ttl":3600}'
  curl -s {{BASE}}/v1/admin/users -u "$CLIENT_ID:$CLIENT_SECRET" -H 'Content-Type: application/json' \
    -d '{"username":"chat-reader","password":"correct horse battery","policy":"read-only"}'; echo
  TOKEN_R=$(curl -s {{BASE}}/v1/token -d grant_type=password -d username=chat-reader -d 'password=correct horse battery' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  curl -s -o /dev/null -w '%{http_code}\n' "{{VONAGE}}/v1/conversations/$CONV/events" -H "Authorization: Bearer $TOKEN_R"
  curl -s -w '%{http_code}\n' {{VONAGE}}/v1/conversations/$CONV/events -H "Authorization: Bearer $TOKEN_R" -H 'Content-Type: application/json' \
    -d '{"type":"message","from":"'"$MEMBER_A"'","body":{"message_type":"text","text":"not allowed"}}'

  # 13. Point a Client SDK app at the emulator: examples/chat (see its README) does
  #     setConfig({apiUrl: '{{VONAGE}}', websocketUrl: '{{VONAGE}}'}) and gets its JWT from {{BASE}}/v1/token
`
