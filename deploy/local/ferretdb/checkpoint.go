package main

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
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
//
// Under steady load a passive checkpoint seldom catches up (some reader is always on an older
// snapshot), so the WAL is never restarted and grows without end: 33 GB while the benchmark
// seeded 400,000 people, until the disk was full. Past walTruncateAbove the checkpoint is a
// TRUNCATE instead, which waits for the readers, but for walBusyMs at most: the writers it holds
// back meanwhile (and an update whose read cursor it waits for) go on when it gives up.
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

// The WAL size past which a checkpoint truncates it (see checkpointWAL), and how long it may wait.
const (
	walTruncateAbove = 256 << 20
	walBusyMs        = 50
)

// checkpoint opens the database afresh each time (a dropped database may come back as a new
// file under the same name) and never creates it (mode=rw), which would add a database.
func checkpoint(ctx context.Context, file string) error {
	mode := "PASSIVE"
	if wal, err := os.Stat(file + "-wal"); err == nil && wal.Size() > walTruncateAbove {
		mode = "TRUNCATE"
	}
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(file)+"?mode=rw&_pragma=busy_timeout("+strconv.Itoa(walBusyMs)+")")
	if err != nil {
		return err
	}
	defer db.Close()

	var busy, logFrames, checkpointed int
	err = db.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &logFrames, &checkpointed)
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
