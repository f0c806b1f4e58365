// Command ferretdb-id-index gives every collection table of a FerretDB v1.24 SQLite state directory an index
// that its `_id` lookups can use.
//
// FerretDB 1.24 creates each collection's `_id_` index on `_ferretdb_sjson->"_id"` but filters, updates and
// deletes by `_id` on `_ferretdb_sjson->'$._id'`. SQLite matches index expressions syntactically, so every
// `_id` lookup scans the whole table inside SQLite's single write lock (see BENCHMARKS.md). This tool adds a
// plain (non-unique) index on the exact expression FerretDB queries with; uniqueness stays with FerretDB's own
// index. FerretDB neither lists nor needs it, and dropping the collection's table drops it too.
//
// Usage: ferretdb-id-index -dir <sqlite dir> [-watch 2s]
// Without -watch it indexes once and exits; with it, it keeps indexing tables created later (FerretDB
// creates a collection's table on its first write) until it is stopped.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	_ "modernc.org/sqlite"
)

// idExpression is FerretDB v1.24.2's metadata.IDColumn for the SQLite backend.
const idExpression = `_ferretdb_sjson->'$._id'`

// indexSuffix names the added index; FerretDB's own index names end in `__id_`.
const indexSuffix = "_pp_id_lookup"

func main() {
	dir := flag.String("dir", "", "FerretDB's SQLite directory (the path of --sqlite-url)")
	watch := flag.Duration("watch", 0, "keep indexing new tables at this interval (0: once)")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "ferretdb-id-index: -dir is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	databases := openDatabases{}
	defer databases.closeAll()
	for {
		if err := databases.indexDirectory(ctx, *dir); err != nil && *watch == 0 {
			log.Fatalf("ferretdb-id-index: %v", err)
		}
		if *watch == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(*watch):
		}
	}
}

// openDatabases keeps one idle connection per database file between passes: a pass then costs one small
// query per database, not an open and a schema parse. An idle connection holds no lock (WAL, no transaction).
type openDatabases map[string]*openDatabase

type openDatabase struct {
	db   *sql.DB
	file os.FileInfo // the file it was opened on: a database dropped and created again is a new file
}

func (o openDatabases) closeAll() {
	for name, d := range o {
		d.db.Close()
		delete(o, name)
	}
}

// get returns a connection to file, reopening it when the file was replaced; nil when it is gone.
func (o openDatabases) get(file string) (*sql.DB, error) {
	info, err := os.Stat(file)
	d := o[file]
	if d != nil && (err != nil || !os.SameFile(d.file, info)) {
		d.db.Close()
		delete(o, file)
		d = nil
	}
	if err != nil {
		return nil, nil // dropped since the glob
	}
	if d == nil {
		// mode=rw: a database dropped meanwhile must not be created again. The busy timeout is FerretDB's.
		db, err := sql.Open("sqlite", "file:"+file+"?mode=rw&_pragma=busy_timeout(10000)")
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		d = &openDatabase{db: db, file: info}
		o[file] = d
	}
	return d.db, nil
}

func (o openDatabases) indexDirectory(ctx context.Context, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.sqlite"))
	if err != nil {
		return err
	}
	present := map[string]bool{}
	for _, file := range files {
		present[file] = true
	}
	for file, d := range o {
		if !present[file] {
			d.db.Close()
			delete(o, file)
		}
	}
	var firstErr error
	for _, file := range files {
		db, err := o.get(file)
		if err == nil && db != nil {
			err = indexDatabase(ctx, db)
		}
		if err != nil {
			// A database being dropped, or busy past the timeout, is retried on the next pass.
			log.Printf("ferretdb-id-index: %s: %v", filepath.Base(file), err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return firstErr
}

func indexDatabase(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx,
		`SELECT t.name FROM sqlite_master t
		 WHERE t.type = 'table'
		   AND t.name NOT LIKE '\_ferretdb\_%' ESCAPE '\' AND t.name NOT LIKE 'sqlite\_%' ESCAPE '\'
		   AND NOT EXISTS (SELECT 1 FROM sqlite_master i WHERE i.type = 'index' AND i.name = t.name || ?)`,
		indexSuffix)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	for _, table := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (%s)`,
			quote(table+indexSuffix), quote(table), idExpression)
		if _, err := db.ExecContext(ctx, q); err != nil {
			if strings.Contains(err.Error(), "no such table") {
				continue // dropped meanwhile
			}
			return fmt.Errorf("%s: %w", table, err)
		}
	}
	return nil
}

func quote(identifier string) string {
	return `"` + strings.ReplaceAll(identifier, `"`, `""`) + `"`
}
