//! One sort for the whole crate.
//!
//! Every `sort_by_key` / `sort` of the standard library instantiates its driftsort for the
//! element type (about 3.5 KB of wasm each; there were six). Here the ordering is computed once,
//! by a non-generic merge sort over indices that asks a `&dyn Fn` to compare two of them; the
//! generic part left per element type is the small in-place permutation.

use std::cmp::Ordering;

/// The indices `0..len` in the order `cmp` gives; equal elements keep their original order (a
/// stable bottom-up merge sort, O(n log n)).
fn stable_order(len: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut src: Vec<usize> = (0..len).collect();
    let mut dst = vec![0usize; len];
    let mut width = 1;
    while width < len {
        let mut start = 0;
        while start < len {
            let mid = len.min(start + width);
            let end = len.min(start + 2 * width);
            let (mut i, mut j) = (start, mid);
            for slot in &mut dst[start..end] {
                // Take from the right run only when it is strictly smaller: that keeps equal
                // elements in their original order.
                if j < end && (i >= mid || cmp(src[j], src[i]) == Ordering::Less) {
                    *slot = src[j];
                    j += 1;
                } else {
                    *slot = src[i];
                    i += 1;
                }
            }
            start = end;
        }
        std::mem::swap(&mut src, &mut dst);
        width *= 2;
    }
    src
}

/// Sorts `items` by `cmp`, stable (like `slice::sort_by`).
pub fn sort_by<T>(items: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    let mut order = stable_order(items.len(), &|a, b| cmp(&items[a], &items[b]));
    // Put the element `order[p]` at position `p`, one cycle of the permutation at a time.
    for start in 0..order.len() {
        let mut cur = start;
        while order[cur] != start {
            let next = order[cur];
            items.swap(cur, next);
            order[cur] = cur;
            cur = next;
        }
        order[cur] = cur;
    }
}

/// Sorts `items` by the key `key` gives, stable (like `slice::sort_by_key`).
pub fn sort_by_key<T, K: Ord>(items: &mut [T], key: impl Fn(&T) -> K) {
    sort_by(items, |a, b| key(a).cmp(&key(b)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_like_the_standard_library_and_is_stable() {
        let mut x = 12345u32;
        for len in 0..70 {
            let mut v: Vec<(u32, usize)> = (0..len)
                .map(|i| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    ((x >> 16) % 7, i)
                })
                .collect();
            let mut expected = v.clone();
            expected.sort_by_key(|e| e.0);
            sort_by_key(&mut v, |e| e.0);
            assert_eq!(v, expected, "len {len}");
        }
    }
}
