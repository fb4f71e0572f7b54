// Package idp is the embedded OpenID provider: a small, real OpenID Connect issuer with local
// accounts, for the demo, the tests, evaluation and districts that have no identity provider of their
// own.
//
// It is built on zitadel/oidc's op package with a storage of our own (store.go). The node's sign-in
// code (web/auth) talks to it exactly as to any external provider: HTTP discovery at
// <issuer>/.well-known/openid-configuration, the authorization code flow with PKCE, and go-oidc
// verification of the ID token. Nothing in web/auth knows it is talking to this package.
//
// # What is kept where
//
//   - Accounts live in the bucket, one object each: node/accounts/{id}.json, where id is derived from
//     the lower-cased email (so an email names exactly one account and the id is the OIDC subject).
//     Passwords are stored only as argon2id hashes in PHC string form.
//   - The ID-token signing key (ECDSA P-256, ES256) lives at node/idp/signing-key.json, created on
//     first start with a create-only put, so replicas sharing a bucket agree on one key.
//   - The node's own client ("brightspots-web", a confidential client using client_secret_basic, with
//     PKCE S256 required on top) has its secret at node/idp/client.json, generated on first start.
//   - Authorization requests, authorization codes and access tokens are short-lived and kept in
//     memory: an authorization request lives 10 minutes, a code 1 minute and is redeemable once, an
//     access token 5 minutes. A restart therefore fails sign-ins that were in progress (the user
//     simply signs in again), and a sign-in must start and finish on one replica: run the embedded
//     provider on one replica (or with sticky sessions); several replicas use the district's IdP.
//   - There is no single-sign-on session at the provider: every sign-in asks for the password. Signing
//     out at the node (RP-initiated logout through end_session) therefore has nothing more to end here
//     than the access tokens issued to the node, which it revokes.
//
// # Claims
//
// The ID token carries sub, email (email_verified is true: an administrator created the account),
// name, and three custom claims: "roles" (the account's roles beyond teacher), "teams" (its PLC
// teams) and "groups" (free-form groups, for tests that play an external IdP). web/auth maps them to
// a principal through its ordinary claim mapping; auth.Config.WithEmbeddedProvider sets that mapping.
//
// # Login throttling
//
// Failed sign-ins are throttled three ways, on an injectable clock, and a throttled attempt is
// refused without checking the password at all, so an attacker gains no guesses while throttled
// and learns nothing from the answer:
//
//   - per account and client address (IPv6 by /64): five failures are free, then each failure
//     doubles the pair's wait (30 s, 1 m, 2 m … up to an hour); a success forgets the pair;
//   - per client address, across accounts (a token bucket: 30 at once, one more every 10 s);
//   - per account, for addresses that have not signed in to it in the last 30 days (a token
//     bucket: 20 at once, one more a minute), which bounds guessing spread over many addresses.
//
// So someone guessing from their own address, or from many, cannot lock an account's owner out:
// the owner at a usual address is held only to their own pair's backoff. What remains, chosen
// knowingly: while an account is under a spread-out attack, its owner signing in from a new address
// waits for the account's budget like everyone else. Unknown emails are throttled and hashed
// exactly like known ones, so the answers do not reveal which accounts exist. The state is in
// memory: a restart forgets it (and each replica keeps its own).
package idp
