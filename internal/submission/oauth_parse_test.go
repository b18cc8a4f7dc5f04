package submission

import (
	"errors"
	"strings"
	"testing"
)

func TestParseTokenMessages(t *testing.T) {
	for _, tc := range []struct {
		name, mech, msg, user, token string
		ok                           bool
	}{
		{"xoauth2", mechXOAuth2, "user=a@b\x01auth=Bearer tok\x01\x01", "a@b", "tok", true},
		{"xoauth2, bearer in lower case", mechXOAuth2, "user=a@b\x01auth=bearer tok\x01\x01", "a@b", "tok", true},
		{"xoauth2, empty user", mechXOAuth2, "user=\x01auth=Bearer tok\x01\x01", "", "tok", true},
		{"xoauth2, no end", mechXOAuth2, "user=a@b\x01auth=Bearer tok", "", "", false},
		{"xoauth2, no user", mechXOAuth2, "auth=Bearer tok\x01\x01", "", "", false},
		{"xoauth2, no auth", mechXOAuth2, "user=a@b\x01\x01", "", "", false},
		{"xoauth2, basic", mechXOAuth2, "user=a@b\x01auth=Basic dG9r\x01\x01", "", "", false},
		{"xoauth2, empty token", mechXOAuth2, "user=a@b\x01auth=Bearer \x01\x01", "", "", false},
		{"oauthbearer", mechOAuthBearer, "n,a=a@b,\x01host=h\x01port=587\x01auth=Bearer tok\x01\x01", "a@b", "tok", true},
		{"oauthbearer, no authzid", mechOAuthBearer, "n,,\x01auth=Bearer tok\x01\x01", "", "tok", true},
		{"oauthbearer, y flag", mechOAuthBearer, "y,,\x01auth=Bearer tok\x01\x01", "", "tok", true},
		{"oauthbearer, saslname escapes", mechOAuthBearer, "n,a=we=2Cird=3D@b,\x01auth=Bearer tok\x01\x01", "we,ird=@b", "tok", true},
		{"oauthbearer, channel binding", mechOAuthBearer, "p=tls-unique,,\x01auth=Bearer tok\x01\x01", "", "", false},
		{"oauthbearer, authzid without a=", mechOAuthBearer, "n,u=a@b,\x01auth=Bearer tok\x01\x01", "", "", false},
		{"oauthbearer, unframed", mechOAuthBearer, "n,,auth=Bearer tok", "", "", false},
		{"oauthbearer, no auth", mechOAuthBearer, "n,,\x01host=h\x01\x01", "", "", false},
		{"oauthbearer, empty", mechOAuthBearer, "", "", "", false},
	} {
		parse := parseOAuthBearer
		if tc.mech == mechXOAuth2 {
			parse = parseXOAuth2
		}
		user, token, err := parse([]byte(tc.msg))
		if (err == nil) != tc.ok || user != tc.user || token != tc.token {
			t.Errorf("%s: got %q %q %v", tc.name, user, token, err)
		}
	}
}

// TestTokenServer: the exchange of both mechanisms, the error challenge
// and whatever the client answers it with (empty, %x01, anything) ending
// in the refusal; an oversized message is refused before it is parsed.
func TestTokenServer(t *testing.T) {
	refusal := errors.New("535 5.7.8")
	login := func(user, token string) ([]byte, error) {
		if token == "good" {
			return nil, nil
		}
		return []byte(`{"status":"invalid_token"}`), refusal
	}
	ts := &tokenServer{mech: mechXOAuth2, login: login}
	if c, done, err := ts.Next(nil); len(c) != 0 || done || err != nil {
		t.Fatalf("no initial response: %q %v %v", c, done, err)
	}
	if _, done, err := ts.Next([]byte("user=a@b\x01auth=Bearer good\x01\x01")); !done || err != nil {
		t.Fatalf("good token: %v %v", done, err)
	}
	for _, answer := range [][]byte{{}, {1}, []byte("anything")} {
		ts = &tokenServer{mech: mechOAuthBearer, login: login}
		c, done, err := ts.Next([]byte("n,,\x01auth=Bearer bad\x01\x01"))
		if string(c) != `{"status":"invalid_token"}` || done || err != nil {
			t.Fatalf("bad token: %q %v %v", c, done, err)
		}
		if _, done, err := ts.Next(answer); !done || err != refusal {
			t.Fatalf("answer %q: %v %v", answer, done, err)
		}
	}
	ts = &tokenServer{mech: mechXOAuth2, login: login}
	if _, done, err := ts.Next([]byte("user=a@b\x01auth=Bearer " + strings.Repeat("a", maxTokenMessage) + "\x01\x01")); !done || err == nil {
		t.Fatalf("oversized: %v %v", done, err)
	}
}
