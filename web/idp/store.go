package idp

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/brightspots-nic/brightspots/storage"
)

// Lifetimes of the provider's short-lived, in-memory state.
const (
	authRequestTTL = 10 * time.Minute
	codeTTL        = time.Minute
	accessTokenTTL = 5 * time.Minute
	idTokenTTL     = 5 * time.Minute
)

var errNotFound = errors.New("idp: not found or expired")

// store is the op.Storage of the embedded provider: accounts, the signing key and the client secret
// from the bucket; authorization requests, codes and access tokens in memory (see the package doc).
type store struct {
	bucket storage.Bucket
	client *client
	secret string
	key    *jose.JSONWebKey
	now    func() time.Time

	mu       sync.Mutex
	requests map[string]*authRequest // by id
	codes    map[string]codeEntry    // by code
	tokens   map[string]accessToken  // by id
}

type codeEntry struct {
	requestID string
	created   time.Time
}

type accessToken struct {
	subject  string
	clientID string
	scopes   []string
	expires  time.Time
}

var (
	_ op.Storage                   = (*store)(nil)
	_ op.CanSetUserinfoFromRequest = (*store)(nil)
)

func newStore(bucket storage.Bucket, c *client, secret string, key *jose.JSONWebKey, now func() time.Time) *store {
	return &store{
		bucket: bucket, client: c, secret: secret, key: key, now: now,
		requests: make(map[string]*authRequest),
		codes:    make(map[string]codeEntry),
		tokens:   make(map[string]accessToken),
	}
}

// sweep drops expired entries; called on every write, so memory stays bounded by the request rate.
func (s *store) sweep(now time.Time) {
	for id, r := range s.requests {
		if now.Sub(r.created) > authRequestTTL {
			delete(s.requests, id)
		}
	}
	for c, e := range s.codes {
		if now.Sub(e.created) > codeTTL {
			delete(s.codes, c)
		}
	}
	for id, t := range s.tokens {
		if now.After(t.expires) {
			delete(s.tokens, id)
		}
	}
}

// CreateAuthRequest stores a validated authorization request. PKCE with S256 is required of every
// client, confidential or not, and prompt=none cannot be satisfied (there is no provider session).
func (s *store) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method S256 is required")
	}
	if req.ResponseType != oidc.ResponseTypeCode {
		return nil, oidc.ErrInvalidRequest().WithDescription("only response_type=code is offered")
	}
	if slices.Contains(req.Prompt, oidc.PromptNone) {
		return nil, oidc.ErrLoginRequired()
	}
	now := s.now()
	r := &authRequest{
		id:            randomHex(16),
		created:       now,
		clientID:      req.ClientID,
		redirectURI:   req.RedirectURI,
		state:         req.State,
		nonce:         req.Nonce,
		scopes:        slices.Clone(req.Scopes),
		responseMode:  req.ResponseMode,
		codeChallenge: &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	s.requests[r.id] = r
	return r.snapshot(), nil
}

func (s *store) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[id]
	if !ok || s.now().Sub(r.created) > authRequestTTL {
		return nil, fmt.Errorf("auth request: %w", errNotFound)
	}
	return r.snapshot(), nil
}

// AuthRequestByCode redeems code: it is removed on the first lookup, so a code works at most once
// (even when that first redemption then fails, say on a wrong PKCE verifier).
func (s *store) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.codes[code]
	delete(s.codes, code)
	now := s.now()
	if !ok || now.Sub(e.created) > codeTTL {
		return nil, fmt.Errorf("code: %w", errNotFound)
	}
	r, ok := s.requests[e.requestID]
	if !ok || !r.done || now.Sub(r.created) > authRequestTTL {
		return nil, fmt.Errorf("code's auth request: %w", errNotFound)
	}
	return r.snapshot(), nil
}

// SaveAuthCode records the one code of a completed request; a second code for it is refused.
func (s *store) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[id]
	if !ok || !r.done {
		return fmt.Errorf("save code: auth request: %w", errNotFound)
	}
	if r.codeIssued {
		return oidc.ErrInvalidRequest().WithDescription("this sign-in has already been completed")
	}
	r.codeIssued = true
	s.codes[code] = codeEntry{requestID: id, created: s.now()}
	return nil
}

func (s *store) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for c, e := range s.codes {
		if e.requestID == id {
			delete(s.codes, c)
		}
	}
	return nil
}

// completeLogin marks request id as authenticated for subject. It fails for an unknown, expired or
// already completed request.
func (s *store) completeLogin(id, subject string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	r, ok := s.requests[id]
	if !ok || now.Sub(r.created) > authRequestTTL || r.done {
		return fmt.Errorf("complete login: %w", errNotFound)
	}
	r.subject = subject
	r.authTime = now
	r.done = true
	return nil
}

// pendingRequest reports whether id is an open (not yet authenticated, not expired) request.
func (s *store) pendingRequest(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[id]
	return ok && !r.done && s.now().Sub(r.created) <= authRequestTTL
}

func (s *store) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	ar, ok := req.(*authRequest)
	if !ok {
		return "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	now := s.now()
	t := accessToken{subject: ar.subject, clientID: ar.clientID, scopes: slices.Clone(ar.scopes), expires: now.Add(accessTokenTTL)}
	id := randomHex(16)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	s.tokens[id] = t
	return id, t.expires, nil
}

// Refresh tokens are not offered: the node's sessions are its own and need none.
func (s *store) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType().WithDescription("refresh tokens are not offered")
}

func (s *store) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (s *store) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

// TerminateSession ends what the provider holds for userID at clientID: its access tokens.
func (s *store) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.tokens {
		if t.subject == userID && t.clientID == clientID {
			delete(s.tokens, id)
		}
	}
	return nil
}

func (s *store) RevokeToken(_ context.Context, tokenID, _ string, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok {
		return nil // unknown or expired: revoked already
	}
	if t.clientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
	}
	delete(s.tokens, tokenID)
	return nil
}

func (s *store) SigningKey(context.Context) (op.SigningKey, error) { return signingKey{s.key}, nil }

func (s *store) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.ES256}, nil
}

func (s *store) KeySet(context.Context) ([]op.Key, error) {
	pub := s.key.Public()
	return []op.Key{publicKey{&pub}}, nil
}

func (s *store) GetClientByClientID(_ context.Context, clientID string) (op.Client, error) {
	if clientID != s.client.id {
		return nil, fmt.Errorf("client %q: %w", clientID, errNotFound)
	}
	return s.client, nil
}

func (s *store) AuthorizeClientIDSecret(_ context.Context, clientID, secret string) error {
	idOK := subtle.ConstantTimeCompare([]byte(clientID), []byte(s.client.id)) == 1
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(s.secret)) == 1
	if !idOK || !secretOK {
		return errors.New("idp: client authentication failed")
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest does the work.
func (s *store) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *store) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return s.setUserinfo(ctx, info, req.GetSubject(), scopes)
}

func (s *store) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || s.now().After(t.expires) || t.subject != subject {
		return fmt.Errorf("userinfo: access token: %w", errNotFound)
	}
	return s.setUserinfo(ctx, info, t.subject, t.scopes)
}

func (s *store) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || s.now().After(t.expires) || t.subject != subject || t.clientID != clientID {
		return fmt.Errorf("introspection: access token: %w", errNotFound)
	}
	info := new(oidc.UserInfo)
	if err := s.setUserinfo(ctx, info, t.subject, t.scopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Scope = t.scopes
	resp.ClientID = t.clientID
	resp.Expiration = oidc.FromTime(t.expires)
	return nil
}

// setUserinfo fills the claims of account subject that scopes allow, plus roles, teams and groups.
func (s *store) setUserinfo(ctx context.Context, info *oidc.UserInfo, subject string, scopes []string) error {
	a, err := loadAccount(ctx, s.bucket, subject)
	if err != nil {
		return fmt.Errorf("userinfo: %w", err)
	}
	info.Subject = a.ID
	if slices.Contains(scopes, oidc.ScopeEmail) {
		info.Email = a.Email
		info.EmailVerified = oidc.Bool(true)
	}
	if slices.Contains(scopes, oidc.ScopeProfile) {
		info.Name = a.Name
		info.PreferredUsername = a.Email
	}
	if len(a.Roles) > 0 {
		info.AppendClaims(ClaimRoles, a.Roles)
	}
	if len(a.Teams) > 0 {
		info.AppendClaims(ClaimTeams, a.Teams)
	}
	if len(a.Groups) > 0 {
		info.AppendClaims(ClaimGroups, a.Groups)
	}
	return nil
}

func (s *store) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// JWT-profile grants are not offered: no client has a registered key.
func (s *store) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("idp: jwt profile grant not offered")
}

func (s *store) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("idp: jwt profile grant not offered")
}

func (s *store) Health(ctx context.Context) error {
	if _, err := s.bucket.Stat(ctx, signingKeyKey); err != nil {
		return fmt.Errorf("idp health: %w", err)
	}
	return nil
}

type signingKey struct{ jwk *jose.JSONWebKey }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (k signingKey) Key() any                                    { return k.jwk.Key }
func (k signingKey) ID() string                                  { return k.jwk.KeyID }

type publicKey struct{ jwk *jose.JSONWebKey }

func (k publicKey) ID() string                         { return k.jwk.KeyID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.jwk.Key }
