// Command sampleapp is Ferry's sample stateful application: a small HTTP
// server that keeps its state in a persistent volume, reads a greeting from
// a ConfigMap and a token from a Secret. Migrating it shows that resources,
// configuration and data all arrived.
//
// Environment: DATA_DIR (default /data), GREETING, API_TOKEN (never
// printed), WRITE_INTERVAL (e.g. "1s": append a line to ticks.log that
// often, to model an application writing while it is staged), PORT.
//
// Endpoints: GET / (summary, counts a visit), GET /records, POST /records
// (appends the body), GET /healthz.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

type app struct {
	dir      string
	greeting string
	token    string
	mu       sync.Mutex
}

func main() {
	a := &app{dir: env("DATA_DIR", "/data"), greeting: env("GREETING", "hello"), token: os.Getenv("API_TOKEN")}
	if err := os.MkdirAll(a.dir, 0o755); err != nil {
		slog.Error("cannot create data folder", "dir", a.dir, "err", err)
		os.Exit(1)
	}
	if d, err := time.ParseDuration(os.Getenv("WRITE_INTERVAL")); err == nil && d > 0 {
		go a.tick(d)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.summary)
	mux.HandleFunc("GET /records", a.listRecords)
	mux.HandleFunc("POST /records", a.addRecord)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	addr := ":" + env("PORT", "8080")
	slog.Info("sample app listening", "addr", addr, "dataDir", a.dir)
	if err := http.ListenAndServe(addr, mux); err != nil {
		slog.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// summary is what the demo shows: where the app runs and what it holds.
type summary struct {
	Greeting    string `json:"greeting"`
	Host        string `json:"host"`
	Visits      int    `json:"visits"`
	Records     int    `json:"records"`
	Ticks       int    `json:"ticks"`
	TokenSHA256 string `json:"tokenSha256,omitempty"`
}

func (a *app) summary(w http.ResponseWriter, _ *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	visits, err := a.bumpVisits()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	host, _ := os.Hostname()
	s := summary{Greeting: a.greeting, Host: host, Visits: visits,
		Records: countLines(filepath.Join(a.dir, "records.log")), Ticks: countLines(filepath.Join(a.dir, "ticks.log"))}
	if a.token != "" {
		sum := sha256.Sum256([]byte(a.token))
		s.TokenSHA256 = hex.EncodeToString(sum[:4])
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s)
}

// bumpVisits increments the visit counter with an atomic rename, so the
// file is never torn.
func (a *app) bumpVisits() (int, error) {
	p := filepath.Join(a.dir, "visits")
	n := 0
	if b, err := os.ReadFile(p); err == nil {
		n, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	n++
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(n)+"\n"), 0o644); err != nil {
		return 0, fmt.Errorf("write visits: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return 0, fmt.Errorf("save visits: %w", err)
	}
	return n, nil
}

func (a *app) listRecords(w http.ResponseWriter, _ *http.Request) {
	f, err := os.Open(filepath.Join(a.dir, "records.log"))
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer f.Close()
	_, _ = io.Copy(w, f)
}

func (a *app) addRecord(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil || len(body) == 0 {
		http.Error(w, "send the record as the request body", http.StatusBadRequest)
		return
	}
	line := strings.ReplaceAll(strings.TrimSpace(string(body)), "\n", " ") + "\n"
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := appendSync(filepath.Join(a.dir, "records.log"), line); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusCreated)
	fmt.Fprint(w, line)
}

func (a *app) tick(d time.Duration) {
	for t := range time.Tick(d) {
		if err := appendSync(filepath.Join(a.dir, "ticks.log"), t.UTC().Format(time.RFC3339Nano)+"\n"); err != nil {
			slog.Error("cannot write tick", "err", err)
		}
	}
}

func appendSync(path, line string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.WriteString(line); err != nil {
		return fmt.Errorf("append to %s: %w", path, err)
	}
	return f.Sync()
}

func countLines(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
	}
	return n
}
