create schema if not exists elemental_slab_oxygen_adsorption;

-- grain: one row per (model, slab): O adsorption energy E(slab + O) − E(slab) − E(O atom),
-- eV; subset = U (an element given a Hubbard U in GGA+U training data) or non-U
create or replace view elemental_slab_oxygen_adsorption.points as
select
    model_key,
    reaction as system,
    'adsorption_energy' as quantity,
    pred_ev as pred,
    ref_ev as ref,
    'eV' as unit,
    state,
    structure_id,
    subset,
    n_species,
from reaction_points('elemental_slab_oxygen_adsorption', 'adsorption_energy');

-- grain: one row per (model, metric): the MAE over all slabs, then over U and non-U slabs
-- (both always present: null when a band holds no slab of that kind)
create or replace view elemental_slab_oxygen_adsorption.metrics as
with points as (
    select * from elemental_slab_oxygen_adsorption.points
),
models as (
    select distinct model_key from points
),
subsets as (
    select * from (values ('U'), ('non-U')) as subsets (subset)
)
select model_key, 'MAE' as metric_key, ok_mae(pred, ref, state) as value,
from points
group by model_key
union all
select
    models.model_key,
    subsets.subset || ' MAE' as metric_key,
    ok_mae(points.pred, points.ref, points.state) as value,
from models
cross join subsets
left join points on points.model_key = models.model_key and points.subset = subsets.subset
group by all;
