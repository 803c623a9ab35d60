package main

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the driver FerretDB uses; registered as "sqlite"
)

// checkpointWAL runs a passive checkpoint of every database in dir once per interval.
//
// SQLite's automatic checkpoint runs inside a committing write, and under steady load it never
// got to reset the WAL (one of FerretDB's pooled connections always reads), so past the
// threshold every commit checkpointed and synced again: updates ran at about half the rate,
// slower as the WAL grew. The server runs with wal_autocheckpoint(0) and this loop does the work
// beside the writers. Passive: it takes no lock a writer waits for (a blocking mode deadlocked
// with an update that holds a read cursor while it writes), and SQLite restarts the WAL from its
// start at the first write after a checkpoint that caught up.
func checkpointWAL(ctx context.Context, dir string, interval time.Duration, logger *slog.Logger) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
		for _, file := range files {
			if err := checkpoint(ctx, file); err != nil && ctx.Err() == nil {
				logger.Warn("checkpoint", "file", file, "err", err)
			}
		}
		removeOrphanWALs(dir, logger)
	}
}

// checkpoint opens the database afresh each time (a dropped database may come back as a new
// file under the same name) and never creates it (mode=rw), which would add a database.
func checkpoint(ctx context.Context, file string) error {
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(file)+"?mode=rw")
	if err != nil {
		return err
	}
	defer db.Close()

	var busy, logFrames, checkpointed int
	err = db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &checkpointed)
	// Busy: another connection holds the checkpoint lock or is recovering the WAL; next time.
	// Unable to open: the database was dropped after the directory was listed.
	if err != nil && !strings.Contains(err.Error(), "SQLITE_BUSY") && !strings.Contains(err.Error(), "unable to open") {
		return err
	}
	return nil
}

// removeOrphanWALs deletes the WAL and shared-memory files of dropped databases. A drop can race
// with a checkpoint's connection, which then keeps the WAL when the database file goes; left in
// place, SQLite would replay it into a new database created under the same name.
func removeOrphanWALs(dir string, logger *slog.Logger) {
	wals, _ := filepath.Glob(filepath.Join(dir, "*.sqlite-wal"))
	for _, wal := range wals {
		file := strings.TrimSuffix(wal, "-wal")
		if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
			continue
		}
		for _, f := range []string{wal, file + "-shm"} {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				logger.Warn("checkpoint: remove orphan", "file", f, "err", err)
			}
		}
	}
}
