//! The rewrite's allocation budget as a test that can fail (the benchmark in
//! `benches/rewrite.rs` only reports it): the TikTok preset's rewrite of a
//! typical Auth0 token request makes at most two heap allocations.
//!
//! The test binary's global allocator counts allocations per thread, so tests
//! running in parallel on other threads do not disturb the count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

use quirkgate::config::preset_request_rules;

/// Counts this thread's allocations and reallocations; delegates to `System`.
struct CountingPerThread;

thread_local! {
    // Const-initialised and without a destructor: safe to touch while allocating.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

unsafe impl GlobalAlloc for CountingPerThread {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingPerThread = CountingPerThread;

/// Allocations this thread made while running `f`.
fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

const AUTH0_BODY: &str = "grant_type=authorization_code&code=C%2A1%21x&redirect_uri=https%3A%2F%2Ftenant.auth0.com%2Flogin%2Fcallback&client_id=aw123&client_secret=s3cr%2Bt";

#[test]
fn tiktok_rewrite_of_an_auth0_body_makes_at_most_two_allocations() {
    let rules = preset_request_rules("tiktok").unwrap();
    let body = AUTH0_BODY.as_bytes();
    // The real rename is what is measured.
    let out = quirkgate_core::rewrite::rewrite(&rules, body, None).unwrap();
    assert_eq!(out.body, AUTH0_BODY.replace("client_id=", "client_key="));
    drop(out);
    for _ in 0..3 {
        let allocations = allocations_in(|| {
            let out = quirkgate_core::rewrite::rewrite(&rules, black_box(body), None).unwrap();
            black_box(out);
        });
        assert!(
            allocations <= 2,
            "the rewrite made {allocations} allocations (budget: 2)"
        );
    }
    // The counter does count: a Vec allocates once.
    assert_eq!(allocations_in(|| drop(black_box(vec![1u8; 64]))), 1);
}
