package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// healthCommand asks the server running at ADDR for /healthz and fails
// unless it answers 200: the container healthcheck of docker-compose.yml,
// since the distroless image has no curl or shell.
func healthCommand(ctx context.Context, cfg config, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	url := "http://" + cfg.HTTP.Addr + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("is the server running at ADDR? %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	_, err = fmt.Fprintln(stdout, "ok")
	return err
}
