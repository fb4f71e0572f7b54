# syntax=docker/dockerfile:1
# The Bright Spots node image: one static binary on distroless, running as an unprivileged user.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t brightspots .
#   docker run --read-only --tmpfs /tmp -v ./brightspots.yaml:/etc/brightspots/brightspots.yaml:ro \
#     -v brightspots-data:/var/lib/brightspots -p 8080:8080 brightspots
#
# The configuration (deploy/brightspots.example.yaml) must set listen: 0.0.0.0:8080, node.url and
# data_dir: /var/lib/brightspots; secrets come from the environment. The root filesystem can be
# read-only: the node writes only to data_dir and /tmp.

FROM golang:1.26.8 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w -X github.com/brightspots-nic/brightspots/web.Version=${VERSION}" \
      -o /out/brightspots ./cmd/brightspots \
 && mkdir -p /out/data

# distroless/static: CA certificates, time zones, /etc/passwd with nonroot (65532); no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/brightspots /brightspots
COPY --from=build --chown=65532:65532 /out/data /var/lib/brightspots
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/brightspots"]
CMD ["serve", "--config", "/etc/brightspots/brightspots.yaml"]
