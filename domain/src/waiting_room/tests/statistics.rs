//! The few statistics the fairness tests need, written out so that they can be checked by eye.

/// Spearman's rank correlation of two rankings of the same `n` items without ties:
/// `1 - 6 Σ d² / (n (n² - 1))`, where `d` is the difference of an item's two ranks.
pub(super) fn spearman_rho(ranks_a: &[usize], ranks_b: &[usize]) -> f64 {
    assert_eq!(ranks_a.len(), ranks_b.len());
    let n = ranks_a.len() as f64;
    let sum_d2: f64 = ranks_a
        .iter()
        .zip(ranks_b)
        .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
        .sum();
    1.0 - 6.0 * sum_d2 / (n * (n * n - 1.0))
}

/// Pearson's chi-square statistic of a contingency table against independence of its rows and
/// columns: `Σ (observed - expected)² / expected`, `expected = row total × column total / n`.
/// A `r × c` table has `(r - 1)(c - 1)` degrees of freedom.
pub(super) fn chi_square(table: &[Vec<u64>]) -> f64 {
    let n: u64 = table.iter().flatten().sum();
    let row_totals: Vec<u64> = table.iter().map(|row| row.iter().sum()).collect();
    let col_totals: Vec<u64> = (0..table[0].len())
        .map(|c| table.iter().map(|row| row[c]).sum())
        .collect();
    let mut chi2 = 0.0;
    for (r, row) in table.iter().enumerate() {
        for (c, &observed) in row.iter().enumerate() {
            let expected = row_totals[r] as f64 * col_totals[c] as f64 / n as f64;
            chi2 += (observed as f64 - expected).powi(2) / expected;
        }
    }
    chi2
}

/// The upper 1 % point of the chi-square distribution with 81 degrees of freedom (a 10 × 10
/// table): 113.512, from the regularized incomplete gamma function, `P(X > 113.512) = 0.0100`;
/// Wilson–Hilferty's approximation `k (1 - 2/(9k) + 2.3263 √(2/(9k)))³` gives 113.53. A statistic
/// below 113.5 is a p-value above 0.01.
pub(super) const CHI2_81_DF_AT_1_PERCENT: f64 = 113.5;

/// A `buckets × buckets` table counting, for each item, the bucket of its first value against the
/// bucket of its second (values in `0..n`).
pub(super) fn bucket_table(
    pairs: impl Iterator<Item = (usize, usize)>,
    n: usize,
    buckets: usize,
) -> Vec<Vec<u64>> {
    let mut table = vec![vec![0u64; buckets]; buckets];
    for (a, b) in pairs {
        table[a * buckets / n][b * buckets / n] += 1;
    }
    table
}

/// Kendall's tau of pairs without ties: (concordant - discordant) / (n (n - 1) / 2). O(n²): for
/// samples.
pub(super) fn kendall_tau(pairs: &[(u64, u64)]) -> f64 {
    let mut score: i64 = 0;
    for (i, a) in pairs.iter().enumerate() {
        for b in &pairs[i + 1..] {
            let x = (a.0 as i64 - b.0 as i64).signum();
            let y = (a.1 as i64 - b.1 as i64).signum();
            score += x * y;
        }
    }
    let n = pairs.len() as f64;
    score as f64 / (n * (n - 1.0) / 2.0)
}

#[test]
fn the_statistics_know_the_obvious_cases() {
    let up: Vec<usize> = (0..100).collect();
    let down: Vec<usize> = (0..100).rev().collect();
    assert!((spearman_rho(&up, &up) - 1.0).abs() < 1e-12);
    assert!((spearman_rho(&up, &down) + 1.0).abs() < 1e-12);
    let pairs: Vec<(u64, u64)> = (0..50).map(|i| (i, i * 2)).collect();
    assert!((kendall_tau(&pairs) - 1.0).abs() < 1e-12);
    let reversed: Vec<(u64, u64)> = (0..50).map(|i| (i, 100 - i)).collect();
    assert!((kendall_tau(&reversed) + 1.0).abs() < 1e-12);
    // A flat table is independent; a diagonal one is as far from it as can be.
    assert_eq!(chi_square(&vec![vec![10; 10]; 10]), 0.0);
    let diagonal: Vec<Vec<u64>> = (0..10)
        .map(|r| (0..10).map(|c| u64::from(r == c) * 10).collect())
        .collect();
    assert!((chi_square(&diagonal) - 900.0).abs() < 1e-9);
    assert_eq!(
        bucket_table([(0, 99), (99, 0)].into_iter(), 100, 10)[0][9],
        1
    );
}
