# Builds the API as a static binary. Migrations and demo data are embedded.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /kedahpulse ./server

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /kedahpulse /kedahpulse
# Without DATABASE_URL the image runs the embedded default: SQLite in
# ./data under the nonroot user's home (mount a volume there to keep it).
WORKDIR /home/nonroot
ENV ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/kedahpulse"]
