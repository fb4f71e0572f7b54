package auth

import (
	"context"

	"github.com/brightspots-nic/brightspots/practices"
)

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p practices.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, or the anonymous principal.
func PrincipalFrom(ctx context.Context) practices.Principal {
	p, _ := ctx.Value(principalKey{}).(practices.Principal)
	return p
}
