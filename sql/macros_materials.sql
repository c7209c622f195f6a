-- Materials benchmarks (elemental_eos, iron_properties, lattice_constants, ...): cell volumes,
-- an exact Birch–Murnaghan fit in SQL and the Δ-gauge of Lejaeghere et al., Science 351,
-- aad3000 (2016).
--
-- The third-order Birch–Murnaghan energy is a cubic polynomial in x = V^(-2/3):
--     E(V) = a0 + a1 x + a2 x² + a3 x³,
-- so fitting it is a linear least-squares problem. We fit the cubic in the standardised
-- u = (x − mean x) / sd x, then read V0, E0, B0 and B0' off the cubic's minimum.

create or replace macro ev_per_a2_to_j_per_m2(e) as e * 16.02176634;

-- NaN and ±inf (a fit without a minimum, a flat curve) become null.
create or replace macro finite_or_null(x) as case when isfinite(x) then x end;

-- Determinant of the 3×3 matrix with rows (a1 a2 a3), (b1 b2 b3), (c1 c2 c3).
create or replace macro det3(a1, a2, a3, b1, b2, b3, c1, c2, c3) as
    a1 * (b2 * c3 - b3 * c2) - a2 * (b1 * c3 - b3 * c1) + a3 * (b1 * c2 - b2 * c1);

-- Volume of a cell stored as structures.cell (double[9], row vectors a, b, c).
create or replace macro cell_volume(cell) as
    abs(det3(cell[1], cell[2], cell[3], cell[4], cell[5], cell[6], cell[7], cell[8], cell[9]));

-- Moments of a least-squares cubic y ≈ c0 + c1 u + c2 u² + c3 u³ (an aggregate).
create or replace macro cubic_moments(u, y) as {
    's11': var_pop(u),
    's12': covar_pop(u, u ^ 2),
    's13': covar_pop(u, u ^ 3),
    's22': var_pop(u ^ 2),
    's23': covar_pop(u ^ 2, u ^ 3),
    's33': var_pop(u ^ 3),
    'r1': covar_pop(u, y),
    'r2': covar_pop(u ^ 2, y),
    'r3': covar_pop(u ^ 3, y),
    'm1': avg(u),
    'm2': avg(u ^ 2),
    'm3': avg(u ^ 3),
    'my': avg(y),
    'n': count(y),
};

-- Slopes [c1, c2, c3] of the cubic from its moments: they solve the 3×3 covariance (normal)
-- equations, here by Cramer's rule. Null with fewer than 4 points. Each step of the fit is
-- its own macro applied to a column: DuckDB expands macros inline, so nesting them would
-- repeat every argument and make binding a view exponentially slow.
create or replace macro cubic_slopes(m) as
    case when m.n >= 4 then [
        det3(m.r1, m.s12, m.s13, m.r2, m.s22, m.s23, m.r3, m.s23, m.s33),
        det3(m.s11, m.r1, m.s13, m.s12, m.r2, m.s23, m.s13, m.r3, m.s33),
        det3(m.s11, m.s12, m.r1, m.s12, m.s22, m.r2, m.s13, m.s23, m.r3),
    ].list_transform(
        lambda d: d / det3(m.s11, m.s12, m.s13, m.s12, m.s22, m.s23, m.s13, m.s23, m.s33)
    ) end;

-- The whole cubic {c0, c1, c2, c3}: the intercept follows from the means.
create or replace macro cubic_from_slopes(m, slopes) as {
    'c0': m.my - slopes[1] * m.m1 - slopes[2] * m.m2 - slopes[3] * m.m3,
    'c1': slopes[1],
    'c2': slopes[2],
    'c3': slopes[3],
};

-- u of the cubic's local minimum: the root of c1 + 2 c2 u + 3 c3 u² = 0 where the second
-- derivative is positive, written in the form that stays exact as c3 → 0.
create or replace macro cubic_minimum(c) as
    -c.c1 / (c.c2 + sqrt(c.c2 * c.c2 - 3 * c.c1 * c.c3));

-- Birch–Murnaghan parameters at the minimum u0 of the cubic c fitted in
-- u = (x − x_mean) / x_sd, x = V^(-2/3). With p(x) the cubic in x: V0 = x0^(-3/2),
-- B0 = 4/9 p″(x0) V0^(-7/3) and B0′ = 4 + 2 x0 p‴(x0) / (3 p″(x0)). Units follow the
-- inputs (eV, Å³ → eV/Å³).
create or replace macro birch_murnaghan(c, u0, x_mean, x_sd) as {
    'v0': pow(x_mean + x_sd * u0, -1.5),
    'e0': c.c0 + c.c1 * u0 + c.c2 * u0 ^ 2 + c.c3 * u0 ^ 3,
    'b0': 4 / 9 * (2 * c.c2 + 6 * c.c3 * u0) / x_sd ^ 2 * pow(x_mean + x_sd * u0, 3.5),
    'b0_prime': 4 + 4 * (x_mean + x_sd * u0) * c.c3 / (x_sd * (2 * c.c2 + 6 * c.c3 * u0)),
};

-- Coefficients [a0, a1, a2, a3] of E(V) − E0 = Σ a_k V^(-2k/3) for given V0, B0, B0'.
create or replace macro birch_murnaghan_coefficients(v0, b0, b1) as [
    9 / 16 * b0 * v0 * (6 - b1),
    9 / 16 * b0 * pow(v0, 5 / 3) * (3 * b1 - 16),
    9 / 16 * b0 * pow(v0, 7 / 3) * (14 - 3 * b1),
    9 / 16 * b0 * pow(v0, 3) * (b1 - 4),
];

-- ∫ from lo to hi of V^(p − 1) dV (p ≠ 0).
create or replace macro power_integral(lo, hi, p) as (pow(hi, p) - pow(lo, p)) / p;

-- Root-mean-square difference of two curves E(V) − E0 = Σ d_k V^(-2k/3) over [lo, hi],
-- integrated exactly term by term (d holds the coefficient differences).
create or replace macro rms_curve_difference(d, lo, hi) as
    sqrt(
        list_sum(range(16).list_transform(
            lambda i: d[i // 4 + 1] * d[i % 4 + 1]
                * power_integral(lo, hi, 1 - 2 * (i // 4 + i % 4) / 3)
        )) / (hi - lo)
    );

-- Δ-gauge (Lejaeghere et al. 2016) between two equations of state, per atom: the RMS
-- energy difference of the two Birch–Murnaghan curves (each zero at its minimum) over
-- ±6 % around their mean V0. Inputs per atom in eV and Å³; returns eV/atom.
create or replace macro delta_gauge(v0_a, b0_a, b1_a, v0_b, b0_b, b1_b) as
    rms_curve_difference(
        list_zip(
            birch_murnaghan_coefficients(v0_a, b0_a, b1_a),
            birch_murnaghan_coefficients(v0_b, b0_b, b1_b)
        ).list_transform(lambda pair: pair[1] - pair[2]),
        0.94 * (v0_a + v0_b) / 2,
        1.06 * (v0_a + v0_b) / 2
    );

-- grain: one row per (model, system, point) of an energy–volume scan: the single points of
-- `benchmark` whose role starts with `role_prefix`, per atom (Å³/atom, eV/atom)
create or replace macro eos_points(benchmark, role_prefix) as table
select
    predictions.model_key,
    predictions.system,
    predictions.role,
    cell_volume(structures.cell) / predictions.n_atoms as volume_per_atom,
    predictions.energy / predictions.n_atoms as energy_per_atom,
    predictions.state,
    predictions.structure_id,
from benchmark_predictions as predictions
join structures using (structure_id)
where predictions.benchmark_key = benchmark and starts_with(predictions.role, role_prefix);

-- grain: one row per (model, system): the Birch–Murnaghan fit of its scan, per atom
-- (v0 Å³/atom, e0 eV/atom, b0 eV/Å³, b0_prime), from ok points only and only when every
-- point is ok; `structure_id` is the scan point nearest V0
create or replace macro eos_fits(benchmark, role_prefix) as table
with points as (
    select * from eos_points(benchmark, role_prefix)
),
standardised as (
    select
        *,
        pow(volume_per_atom, -2 / 3) as x,
        avg(pow(volume_per_atom, -2 / 3)) over curve as x_mean,
        stddev_pop(pow(volume_per_atom, -2 / 3)) over curve as x_sd,
    from points
    window curve as (partition by model_key, system)
),
moments as (
    select
        model_key,
        system,
        cubic_moments(
            case when state = 'ok' then (x - x_mean) / x_sd end,
            case when state = 'ok' then energy_per_atom end
        ) as m,
        any_value(x_mean) as x_mean,
        any_value(x_sd) as x_sd,
        count(*) as n_points,
        combined_state(list(state)) as state,
        list({'v': volume_per_atom, 'id': structure_id}) as scan,
    from standardised
    group by model_key, system
),
slopes as (
    select *, case when state = 'ok' then cubic_slopes(m) end as slopes, from moments
),
cubics as (
    select *, cubic_from_slopes(m, slopes) as c, from slopes
),
minima as (
    select *, cubic_minimum(c) as u0, from cubics
),
fits as (
    select *, birch_murnaghan(c, u0, x_mean, x_sd) as bm, from minima
)
select
    model_key,
    system,
    finite_or_null(bm.v0) as v0,
    finite_or_null(bm.e0) as e0,
    finite_or_null(bm.b0) as b0,
    finite_or_null(bm.b0_prime) as b0_prime,
    n_points,
    state,
    list_sort(scan.list_transform(lambda p: {'distance': abs(p.v - coalesce(bm.v0, 0)), 'id': p.id}))
        [1].id as structure_id,
from fits;

-- grain: one row per (model, system, image) of a benchmark's NEB runs: each image's energy
-- relative to the initial one (eV) and its stored structure
create or replace macro neb_images(benchmark) as table
with images as (
    select *, unnest(range(len(frame_ids))) as image,
    from benchmark_predictions
    where benchmark_key = benchmark
)
select
    model_key,
    system,
    image,
    properties[printf('energy_%03d', image)] - properties['energy_000'] as energy,
    frame_ids[image + 1] as structure_id,
    state,
from images;
