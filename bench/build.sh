# Sourced by the bench scripts: build_server DIR [REV] builds the server
# into DIR/api, from the working tree or, given a git rev, from a worktree
# of that rev (removed again on exit by cleanup_build).
build_server() {
  local dir=$1 rev=${2:-} src=.
  if [ -n "$rev" ]; then git worktree add -q "$dir/src" "$rev"; src=$dir/src; fi
  (cd "$src" && go build -o "$dir/api" ./server)
}

cleanup_build() {
  local dir=$1
  [ -d "$dir/src" ] && git worktree remove --force "$dir/src" 2>/dev/null
  rm -rf "$dir"
}
