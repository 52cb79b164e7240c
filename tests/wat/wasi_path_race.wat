;; wasi_path_race.wat - for test_wasi_path: one export per path_* call, each
;; acting on "dir/NAME" beneath the preopen at fd 3 while the test swaps
;; "dir" with a symlink to a directory outside. Each returns the errno
;; (0 on success) or, where the call reads something, what it read: a
;; file's size, a directory's inode, a link's length (-errno on failure).
(module
  (import "wasi_snapshot_preview1" "path_create_directory"
    (func $mkdir (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get"
    (func $stat (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_set_times"
    (func $times (param i32 i32 i32 i32 i64 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_link"
    (func $link (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_readlink"
    (func $readlink (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_remove_directory"
    (func $rmdir (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_rename"
    (func $rename (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink"
    (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file"
    (func $unlink (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_get"
    (func $fstat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "dir/mk")
  (data (i32.const 16) "dir/secret")
  (data (i32.const 32) "dir/")
  (data (i32.const 48) "plain")
  (data (i32.const 64) "dir/planted")
  (data (i32.const 80) "grab")
  (data (i32.const 96) "dir/created")
  (data (i32.const 112) "dir/slink")
  (data (i32.const 128) "dir/victimdir")
  (data (i32.const 144) "dir/mvsrc")
  (data (i32.const 160) "dir/mvdst")
  (data (i32.const 176) "x")
  (data (i32.const 192) "dir/sym")
  (data (i32.const 208) "dir/victim")
  (data (i32.const 224) "secret")
  ;; 512: a filestat (ino at +8, size at +32), 600: an opened fd,
  ;; 640: readlink's buffer, 720: its length

  ;; errno as a result
  (func $e (param $e i32) (result i64) (i64.extend_i32_u (local.get $e)))
  ;; -errno, or the u64 at $off of the filestat at 512
  (func $st (param $e i32) (param $off i32) (result i64)
    (if (result i64) (local.get $e)
      (then (i64.sub (i64.const 0) (i64.extend_i32_u (local.get $e))))
      (else (i64.load (i32.add (i32.const 512) (local.get $off))))))

  (func (export "mkdir") (result i64)
    (call $e (call $mkdir (i32.const 3) (i32.const 0) (i32.const 6))))
  (func (export "stat_nofollow") (result i64)
    (call $st (call $stat (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 10) (i32.const 512))
      (i32.const 32)))
  (func (export "stat_follow") (result i64)
    (call $st (call $stat (i32.const 3) (i32.const 1) (i32.const 16) (i32.const 10) (i32.const 512))
      (i32.const 32)))
  ;; "dir/" itself: the inode of whatever directory it resolved to
  (func (export "stat_dir") (result i64)
    (call $st (call $stat (i32.const 3) (i32.const 0) (i32.const 32) (i32.const 4) (i32.const 512))
      (i32.const 8)))
  ;; atim and mtim set to now
  (func (export "times_nofollow") (result i64)
    (call $e (call $times (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 10)
      (i64.const 0) (i64.const 0) (i32.const 10))))
  (func (export "times_follow") (result i64)
    (call $e (call $times (i32.const 3) (i32.const 1) (i32.const 16) (i32.const 10)
      (i64.const 0) (i64.const 0) (i32.const 10))))
  ;; plain -> dir/planted (a link created in dir)
  (func (export "link_into_dir") (result i64)
    (call $e (call $link (i32.const 3) (i32.const 0) (i32.const 48) (i32.const 5)
      (i32.const 3) (i32.const 64) (i32.const 11))))
  ;; dir/secret -> grab (a link to dir's file created at the top)
  (func (export "link_from_dir") (result i64)
    (call $e (call $link (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 10)
      (i32.const 3) (i32.const 80) (i32.const 4))))
  (func (export "link_from_dir_follow") (result i64)
    (call $e (call $link (i32.const 3) (i32.const 1) (i32.const 16) (i32.const 10)
      (i32.const 3) (i32.const 80) (i32.const 4))))
  ;; open dir/secret for reading; its size
  (func (export "open_file") (result i64) (local $e i32)
    (local.set $e (call $open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 10)
      (i32.const 0) (i64.const 0x200002) (i64.const 0) (i32.const 0) (i32.const 600)))
    (if (i32.eqz (local.get $e)) (then
      (local.set $e (call $fstat (i32.load (i32.const 600)) (i32.const 512)))
      (drop (call $close (i32.load (i32.const 600))))))
    (call $st (local.get $e) (i32.const 32)))
  ;; open "dir/" as a directory, then stat "secret" through the new fd
  (func (export "open_dir") (result i64) (local $e i32)
    (local.set $e (call $open (i32.const 3) (i32.const 0) (i32.const 32) (i32.const 4)
      (i32.const 2) (i64.const 0x44000) (i64.const 0x44000) (i32.const 0) (i32.const 600)))
    (if (i32.eqz (local.get $e)) (then
      (local.set $e (call $stat (i32.load (i32.const 600)) (i32.const 0) (i32.const 224)
        (i32.const 6) (i32.const 512)))
      (drop (call $close (i32.load (i32.const 600))))))
    (call $st (local.get $e) (i32.const 32)))
  ;; open dir/created with O_CREAT
  (func (export "open_create") (result i64) (local $e i32)
    (local.set $e (call $open (i32.const 3) (i32.const 0) (i32.const 96) (i32.const 11)
      (i32.const 1) (i64.const 0x2) (i64.const 0) (i32.const 0) (i32.const 600)))
    (if (i32.eqz (local.get $e)) (then (drop (call $close (i32.load (i32.const 600))))))
    (call $e (local.get $e)))
  ;; the length of dir/slink's target
  (func (export "readlink") (result i64) (local $e i32)
    (local.set $e (call $readlink (i32.const 3) (i32.const 112) (i32.const 9) (i32.const 640)
      (i32.const 64) (i32.const 720)))
    (if (result i64) (local.get $e)
      (then (i64.sub (i64.const 0) (i64.extend_i32_u (local.get $e))))
      (else (i64.extend_i32_u (i32.load (i32.const 720))))))
  (func (export "rmdir") (result i64)
    (call $e (call $rmdir (i32.const 3) (i32.const 128) (i32.const 13))))
  (func (export "rename") (result i64)
    (call $e (call $rename (i32.const 3) (i32.const 144) (i32.const 9)
      (i32.const 3) (i32.const 160) (i32.const 9))))
  (func (export "symlink") (result i64)
    (call $e (call $symlink (i32.const 176) (i32.const 1) (i32.const 3) (i32.const 192)
      (i32.const 7))))
  (func (export "unlink") (result i64)
    (call $e (call $unlink (i32.const 3) (i32.const 208) (i32.const 10)))))
