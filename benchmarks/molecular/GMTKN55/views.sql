create schema if not exists gmtkn55;

-- grain: one row per (model, reaction), with its WTMAD-2 weight and its subgroup (Goerigk
-- et al. 2017, table 1)
create or replace view gmtkn55.points as
with reaction_energies as (
    select * from reaction_points_kcal_per_mol('GMTKN55', 'reaction_energy')
),
weights as (
    select reaction as system, weight from wtmad2_weights('GMTKN55', 'reaction_energy')
)
select
    reaction_energies.*,
    weights.weight,
    case
        when subset in (
            'W4-11', 'G21EA', 'G21IP', 'DIPCS10', 'PA26', 'SIE4x4', 'ALKBDE10', 'YBDE18',
            'AL2X6', 'HEAVYSB11', 'NBPRC', 'ALK8', 'RC21', 'G2RC', 'BH76RC', 'FH51', 'TAUT15',
            'DC13'
        ) then 'Small systems'
        when subset in (
            'MB16-43', 'DARC', 'RSE43', 'BSR36', 'CDIE20', 'ISO34', 'ISOL24', 'C60ISO', 'PArel'
        ) then 'Large systems'
        when subset in ('BH76', 'BHPERI', 'BHDIV10', 'INV24', 'BHROT27', 'PX13', 'WCPT18')
            then 'Barrier heights'
        when subset in (
            'RG18', 'ADIM6', 'S22', 'S66', 'HEAVY28', 'WATER27', 'CARBHB12', 'PNICO23', 'HAL59',
            'AHB21', 'CHB6', 'IL16'
        ) then 'Intermolecular NCIs'
        when subset in (
            'IDISP', 'ICONF', 'ACONF', 'Amino20x4', 'PCONF21', 'MCONF', 'SCONF', 'UPU23',
            'BUT14DIOL'
        ) then 'Intramolecular NCIs'
    end as subgroup,
from reaction_energies
join weights using (system);

-- grain: one row per (model, metric): WTMAD-2 over all reactions, then over each subgroup
create or replace view gmtkn55.metrics as
select
    model_key,
    'WTMAD' as metric_key,
    avg(weight * abs(pred - ref)) filter (where state = 'ok') as value,
from gmtkn55.points
group by model_key
union all
select
    model_key,
    subgroup as metric_key,
    avg(weight * abs(pred - ref)) filter (where state = 'ok') as value,
from gmtkn55.points
group by model_key, subgroup;
