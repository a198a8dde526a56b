//! The statistics that show a queue was fair, written out so they can be checked by eye:
//! Spearman's rho, Pearson's chi-square of a contingency table with its p-value (the regularized
//! upper incomplete gamma function), and Kendall's tau. The domain's fairness tests and loadgen's
//! audit of a real queue both use them.

/// Spearman's rank correlation of two rankings of the same `n` items without ties:
/// `1 - 6 Σ d² / (n (n² - 1))`, where `d` is the difference of an item's two ranks.
pub fn spearman_rho(ranks_a: &[usize], ranks_b: &[usize]) -> f64 {
    let n = ranks_a.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let sum_d2: f64 = ranks_a
        .iter()
        .zip(ranks_b)
        .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
        .sum();
    1.0 - 6.0 * sum_d2 / (n * (n * n - 1.0))
}

/// A `buckets × buckets` table counting, for each item, the bucket of its first value against the
/// bucket of its second (values in `0..n`).
pub fn bucket_table(
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

/// Pearson's chi-square statistic of a table against independence of its rows and columns,
/// `Σ (observed - expected)² / expected`, and its degrees of freedom `(r - 1)(c - 1)`.
pub fn chi_square(table: &[Vec<u64>]) -> (f64, u32) {
    let n: u64 = table.iter().flatten().sum();
    let rows: Vec<u64> = table.iter().map(|row| row.iter().sum()).collect();
    let columns: Vec<u64> = (0..table[0].len())
        .map(|c| table.iter().map(|row| row[c]).sum())
        .collect();
    let mut chi2 = 0.0;
    for (r, row) in table.iter().enumerate() {
        for (c, &observed) in row.iter().enumerate() {
            let expected = rows[r] as f64 * columns[c] as f64 / n as f64;
            if expected > 0.0 {
                chi2 += (observed as f64 - expected).powi(2) / expected;
            }
        }
    }
    let df = (table.len() as u32 - 1) * (table[0].len() as u32 - 1);
    (chi2, df)
}

/// `P(X > chi2)` for a chi-square variable with `df` degrees of freedom: `Q(df/2, chi2/2)`.
pub fn chi_square_p_value(chi2: f64, df: u32) -> f64 {
    upper_gamma_regularized(f64::from(df) / 2.0, chi2 / 2.0)
}

/// `Q(a, x) = Γ(a, x) / Γ(a)`: by its series for `x < a + 1`, else by its continued fraction
/// (Lentz's method), as in Numerical Recipes' `gammq`.
fn upper_gamma_regularized(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let log_prefix = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        let (mut term, mut sum, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..10_000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-15 {
                break;
            }
        }
        1.0 - sum * log_prefix.exp()
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-15 {
                break;
            }
        }
        log_prefix.exp() * h
    }
}

/// `ln Γ(x)` for `x > 0`, Lanczos' approximation (g = 7, nine coefficients).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let sum = G[1..]
        .iter()
        .enumerate()
        .fold(G[0], |sum, (i, g)| sum + g / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// Kendall's tau of pairs without ties: (concordant - discordant) / (n (n - 1) / 2). O(n²): give
/// it a sample.
pub fn kendall_tau(pairs: &[(u64, u64)]) -> f64 {
    if pairs.len() < 2 {
        return 1.0;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(chi_square(&vec![vec![10; 10]; 10]), (0.0, 81));
        let diagonal: Vec<Vec<u64>> = (0..10)
            .map(|r| (0..10).map(|c| u64::from(r == c) * 10).collect())
            .collect();
        assert!((chi_square(&diagonal).0 - 900.0).abs() < 1e-9);
        assert_eq!(
            bucket_table([(0, 99), (99, 0)].into_iter(), 100, 10)[0][9],
            1
        );
    }

    #[test]
    fn p_values_match_the_tables() {
        // The upper 1 % point of chi-square with 81 df is 113.512; with 1 df, 6.635; the median
        // of 2 df is 2 ln 2.
        assert!((chi_square_p_value(113.512, 81) - 0.01).abs() < 1e-4);
        assert!((chi_square_p_value(6.635, 1) - 0.01).abs() < 1e-4);
        assert!((chi_square_p_value(2.0 * 2f64.ln(), 2) - 0.5).abs() < 1e-9);
        assert!((chi_square_p_value(0.0, 81) - 1.0).abs() < 1e-12);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
    }
}
