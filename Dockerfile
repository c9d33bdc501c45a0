# Build: docker build -t docket .
# Run:   docker run -p 8080:8080 -v docket-data:/data docket
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=docker
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/docket ./cmd/docket \
	&& mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/docket /docket
COPY --from=build --chown=65532:65532 /out/data /data
ENV DOCKET_ADDR=0.0.0.0:8080 DOCKET_DATA=/data DOCKET_LOG_FORMAT=json
USER 65532:65532
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s CMD ["/docket", "healthcheck"]
ENTRYPOINT ["/docket"]
CMD ["serve"]
