// Command cdp-ferretdb runs FerretDB (MongoDB wire protocol) embedded, backed by SQLite.
//
// It is built and started by deploy/local/stack.sh; it is a local dev/test/CI server only.
//
// Usage:
//
//	cdp-ferretdb [-listen 127.0.0.1:27017] [-data DIR] [-log-level warn]   run the server
//	cdp-ferretdb ping [-uri mongodb://127.0.0.1:27017/] [-timeout 2s]
//	                                                              health check: exit 0 if a MongoDB-compatible
//	                                                              server answers {ping: 1} and {buildInfo: 1}
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // served only with -debug-listen, to profile the server under a benchmark
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "ping" {
		os.Exit(ping(os.Args[2:]))
	}

	listen := flag.String("listen", "127.0.0.1:27017", "TCP listen address")
	data := flag.String("data", "data", "SQLite data directory")
	synchronous := flag.String("synchronous", "full", "SQLite synchronous mode: full (fsync every commit) or normal (WAL synced at checkpoints; survives a process crash, not a power loss)")
	logLevel := flag.String("log-level", "warn", "log level: debug, info, warn or error")
	checkpointEvery := flag.Duration("checkpoint-interval", time.Second, "how often to checkpoint the SQLite write-ahead logs (see checkpoint.go)")
	debugListen := flag.String("debug-listen", "", "if set, serve Go's /debug/pprof on this address (e.g. 127.0.0.1:6060)")
	gcPercent := flag.Int("gc-percent", 400, "Go's GOGC: heap growth between collections, in percent of the live heap")
	flag.Parse()

	// Every statement decodes and encodes whole JSON documents, so the server allocates fast and the
	// default (100) collected often: about a tenth of its CPU under the pipeline's load. A few times
	// the live heap (tens of MB) is cheap on any machine this runs on.
	debug.SetGCPercent(*gcPercent)

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintln(os.Stderr, "bad -log-level:", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)

	if *synchronous != "full" && *synchronous != "normal" {
		fail(logger, "bad -synchronous (full or normal)", nil)
	}

	dir, err := filepath.Abs(*data)
	if err != nil {
		fail(logger, "bad data dir", err)
	}
	if err = os.MkdirAll(dir, 0o755); err != nil {
		fail(logger, "cannot create data dir", err)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Logger:   logger,
		Handler:  "sqlite",
		// The directory must end with a slash. Checkpoints run in checkpointWAL, not in commits;
		// the WAL file is cut back to 64 MB when it restarts.
		SQLiteURL: "file:" + filepath.ToSlash(dir) + "/?_pragma=synchronous(" + *synchronous + ")&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(67108864)",
	})
	if err != nil {
		fail(logger, "cannot start FerretDB", err)
	}

	if *debugListen != "" {
		go func() {
			if err := http.ListenAndServe(*debugListen, nil); err != nil {
				logger.Error("debug listener stopped", "err", err)
			}
		}()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	go checkpointWAL(ctx, dir, *checkpointEvery, logger)

	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := f.Run(ctx); err != nil {
			logger.Error("FerretDB stopped with error", "err", err)
		}
	}()

	// printed regardless of the log level, so the log shows when the server came up
	fmt.Fprintf(os.Stderr, "%s READY %s data=%s\n", time.Now().Format(time.RFC3339), f.MongoDBURI(), dir)

	<-done
	fmt.Fprintf(os.Stderr, "%s STOPPED\n", time.Now().Format(time.RFC3339))
}

func fail(logger *slog.Logger, msg string, err error) {
	logger.Error(msg, "err", err)
	os.Exit(1)
}

// ping connects to uri and runs {ping: 1} and {buildInfo: 1}; it prints the server version.
func ping(args []string) int {
	fs := flag.NewFlagSet("ping", flag.ExitOnError)
	uri := fs.String("uri", "mongodb://127.0.0.1:27017/", "MongoDB URI")
	timeout := fs.Duration("timeout", 3*time.Second, "overall timeout")
	_ = fs.Parse(args)

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	opts := options.Client().ApplyURI(*uri).
		SetServerSelectionTimeout(*timeout).
		SetConnectTimeout(*timeout).
		SetDirect(true)
	client, err := mongo.Connect(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ping: connect:", err)
		return 1
	}
	// No client.Disconnect: it sends endSessions, which FerretDB 1.24 does not implement (it logs a
	// warning for every health check). The process exits right after; the server sees a closed socket.

	if err = client.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		fmt.Fprintln(os.Stderr, "ping:", err)
		return 1
	}
	var info bson.M
	if err = client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		fmt.Fprintln(os.Stderr, "ping: buildInfo:", err)
		return 1
	}
	_, isFerret := info["ferretdbVersion"]
	fmt.Printf("ok version=%v ferretdb=%v\n", info["version"], isFerret)
	return 0
}
