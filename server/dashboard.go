package main

import (
	"crypto/rand"
	"fmt"
	"os"

	"github.com/kedahpulse/kedahpulse/server/dashboard"
)

// maxDashboardProcesses bounds the Redis history: samples of at most this
// many processes sampling over the whole window are kept.
const maxDashboardProcesses = 64

// newBoard wires the dashboard: its history lives in the cache backend, so
// every process sharing Redis shows every process's samples.
func (a *app) newBoard(families *dashboard.Families) *dashboard.Board {
	window, interval := a.cfg.Dashboard.History, a.cfg.Dashboard.Interval
	perProcess := dashboard.SamplesPerProcess(window, interval)
	history := dashboard.NewMemoryHistory(perProcess)
	if a.redis != nil {
		history = dashboard.NewRedisHistory(a.redis, a.cfg.Cache.Prefix, window, maxDashboardProcesses*perProcess, nil)
	}
	return dashboard.New(dashboard.Options{
		Cache: a.cache, Runs: a.store, History: history, Families: families,
		Process: processName(), Token: a.cfg.HTTP.AdminToken,
		Interval: interval, Window: window, Log: a.log,
	})
}

// processName names this server in the dashboard's history: host, process
// id and a random suffix (tests run several servers in one process).
func processName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	b := make([]byte, 2)
	rand.Read(b)
	return fmt.Sprintf("%s:%d:%x", host, os.Getpid(), b)
}
