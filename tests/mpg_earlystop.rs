//! Lab 9 tests: parsing, the tutorial's split (against pandas) and normalisation, the
//! metrics, early stopping on a crafted loss sequence, the checkpoint reloaded in a fresh
//! process, `--predict`'s errors, `--quick`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use burn::prelude::*;
use lab_mpg_earlystop::data::{self, MpgBatcher, Normalisation};
use lab_mpg_earlystop::model::{MpgModel, MpgModelConfig};
use lab_mpg_earlystop::split::{self, RandomState, Split};
use shared::auto_mpg::{self, Car};
use shared::datasets::samples_dir;
use shared::train::{
    self, Callback, Control, EarlyStopping, EarlyStoppingConfig, EpochRecord, History, Metric,
    ModelCheckpoint, Task,
};

fn bundled_cars() -> Vec<Car> {
    auto_mpg::read(&samples_dir().join("auto-mpg").join(auto_mpg::FILE)).unwrap()
}

/// The error `auto_mpg::read` gives for a file whose second line is `line`.
fn parse_error(line: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auto-mpg.data");
    let good =
        "18.0   8   307.0      130.0      3504.      12.0   70  1\t\"chevrolet chevelle malibu\"";
    std::fs::write(&path, format!("{good}\n{line}\n{good}\n")).unwrap();
    format!("{}", auto_mpg::read(&path).unwrap_err())
}

#[test]
fn malformed_rows_are_errors_that_name_the_line() {
    for (line, says) in [
        (
            "15.0 8 350.0 165.0 3693. 11.5 70\t\"buick skylark\"",
            "expected 8 numbers",
        ),
        (
            "15.0 8 350.0 165.0 heavy 11.5 70 1\t\"buick skylark\"",
            "weight is `heavy`",
        ),
        (
            "15.0 8 350.0 165.0 3693. 11.5 70 4\t\"buick skylark\"",
            "origin is 4",
        ),
        // `?` is allowed for horsepower only.
        (
            "15.0 8 350.0 165.0 ? 11.5 70 1\t\"buick skylark\"",
            "weight is `?`",
        ),
        (
            "15.0 ? 350.0 165.0 3693. 11.5 70 1\t\"buick skylark\"",
            "cylinders is `?`",
        ),
    ] {
        let error = parse_error(line);
        assert!(
            error.contains("line 2") && error.contains(says),
            "{line}: {error}"
        );
    }
    // A `?` horsepower parses, as None.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.data");
    std::fs::write(&path, "25.0 4 98.00 ? 2046. 19.0 71 1\t\"ford pinto\"\n").unwrap();
    assert_eq!(auto_mpg::read(&path).unwrap()[0].horsepower, None);
}

#[test]
fn the_data_is_prepared_as_the_tutorial_does() {
    let data = data::prepare(bundled_cars(), Split::Tutorial, 0.2).unwrap();
    assert_eq!(data.read, 398);
    let dropped: Vec<&str> = data.dropped.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(dropped.len(), 6);
    assert!(dropped.contains(&"ford pinto") && dropped.contains(&"renault 18i"));
    // 392 cars: round(0.8 · 392) = 314 train (of which Keras's floor(0.8 · 314) = 251 fit
    // and 63 validate), 78 test.
    assert_eq!(
        (data.train.len(), data.valid.len(), data.test.len()),
        (251, 63, 78)
    );
    let features: Vec<[f32; 9]> = data.train.iter().map(auto_mpg::features).collect();
    assert!(
        features.iter().all(|f| f[6] + f[7] + f[8] == 1.0),
        "one-hot origin"
    );
    assert_eq!(
        data.describe(),
        "392 cars (6 of 398 dropped): 251 train, 63 valid, 78 test"
    );
}

#[test]
fn mt19937_gives_the_reference_outputs() {
    // numpy's RandomState(seed).randint(0, 2**32, size=5, dtype=np.uint64), i.e. the raw
    // genrand_int32 outputs (printed by keras/make_split_fixture.py); seed 5489 is also
    // C++'s std::mt19937 default, whose 10,000th output the C++ standard fixes.
    for (seed, first) in [
        (
            0,
            [2357136044, 2546248239, 3071714933, 3626093760, 2588848963],
        ),
        (
            5489,
            [3499211612, 581869302, 3890346734, 3586334585, 545404204],
        ),
    ] {
        let mut state = RandomState::new(seed);
        let outputs: Vec<u32> = (0..5).map(|_| state.next_u32()).collect();
        assert_eq!(outputs, first, "seed {seed}");
    }
    let mut state = RandomState::new(5489);
    let ten_thousandth = (0..10_000).map(|_| state.next_u32()).last();
    assert_eq!(ten_thousandth, Some(4_123_659_995));
    // numpy: RandomState(0).permutation(10).
    assert_eq!(
        RandomState::new(0).permutation(10),
        [2, 8, 4, 9, 1, 6, 7, 3, 0, 5]
    );
}

/// `keras/tutorial_split.txt`: the training positions pandas' `sample` gave.
fn tutorial_fixture() -> Vec<usize> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("keras/tutorial_split.txt");
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(|l| l.split_whitespace().map(|w| w.parse::<usize>().unwrap()))
        .collect()
}

#[test]
fn the_tutorial_split_matches_pandas() {
    let expected = tutorial_fixture();
    assert_eq!(expected.len(), 314);
    let (train, test) = split::pandas_sample(392, 0.8, 0);
    assert_eq!(train.len(), expected.len());
    for (i, (ours, pandas)) in train.iter().zip(&expected).enumerate() {
        assert_eq!(ours, pandas, "training car {i}");
    }
    let mut all: Vec<usize> = train.iter().chain(&test).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..392).collect::<Vec<_>>());
    assert!(
        test.windows(2).all(|w| w[0] < w[1]),
        "test cars in file order"
    );

    // prepare(): the fixture's cars, the last 63 of them validating; the rest tested.
    let known = auto_mpg::handle_missing(&bundled_cars(), auto_mpg::Missing::Drop);
    let data = data::prepare(bundled_cars(), Split::Tutorial, 0.2).unwrap();
    let names = |cars: &[Car]| cars.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    let fixture_cars: Vec<Car> = expected.iter().map(|&i| known[i].clone()).collect();
    assert_eq!(names(&data.train), names(&fixture_cars[..251]));
    assert_eq!(data.train, fixture_cars[..251]);
    assert_eq!(data.valid, fixture_cars[251..]);
    let test_cars: Vec<Car> = test.iter().map(|&i| known[i].clone()).collect();
    assert_eq!(data.test, test_cars);

    // The seeded shuffle is still there, and another split.
    let seeded = data::prepare(bundled_cars(), Split::Seeded(0), 0.2).unwrap();
    assert_eq!(seeded.test, auto_mpg::split(&known, 0.8, 0).1);
    assert_ne!(seeded.test, data.test);
}

#[test]
fn normalisation_uses_the_training_cars_only() {
    let cars = bundled_cars();
    let data = data::prepare(cars.clone(), Split::Tutorial, 0.2).unwrap();
    let training: Vec<Car> = data.train.iter().chain(&data.valid).cloned().collect();
    assert_eq!(data.normalisation, Normalisation::fit(&training));
    assert_eq!(data.normalisation.cars, 314);

    // Make a test car absurd: the statistics do not move, and it is still a test car.
    let name = data.test[0].name.clone();
    let mut changed = cars;
    for car in changed.iter_mut().filter(|c| c.name == name) {
        car.weight = 1e6;
    }
    let again = data::prepare(changed, Split::Tutorial, 0.2).unwrap();
    assert!(again.test.iter().any(|c| c.weight == 1e6));
    assert_eq!(again.normalisation, data.normalisation);

    // Applied to the training cars, every feature has mean 0 and (sample) std 1.
    let rows: Vec<[f32; 9]> = training
        .iter()
        .map(|c| data.normalisation.apply(&auto_mpg::features(c)))
        .collect();
    for column in 0..9 {
        let values: Vec<f64> = rows.iter().map(|r| r[column] as f64).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let var =
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() - 1) as f64;
        assert!(
            mean.abs() < 1e-4 && (var.sqrt() - 1.0).abs() < 1e-4,
            "{column}"
        );
    }

    // Saved and read back exactly.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("normalisation.json");
    data.normalisation.save(&path).unwrap();
    assert_eq!(Normalisation::load(&path).unwrap(), data.normalisation);
}

#[test]
fn the_model_is_dense_64_64_1_with_4865_parameters() {
    let device = Device::flex();
    let model = MpgModelConfig::new().init(&device);
    assert_eq!(model.num_params(), 4_865);
    let params: Vec<usize> = model.summary().iter().map(|r| r.params).collect();
    assert_eq!(params, vec![0, 640, 4_160, 65]);
    assert_eq!(model.forward(Tensor::zeros([5, 9], &device)).dims(), [5, 1]);
}

#[test]
fn mae_and_mse_of_known_predictions() {
    let device = Device::flex();
    // Every car predicted at 20 MPG; errors -2, +2, +5, 0 and -1.
    let model = MpgModelConfig::new().init(&device).constant(20.0);
    let batcher = MpgBatcher {
        features: vec![[0.5; 9]; 5],
        mpg: vec![22.0, 18.0, 15.0, 20.0, 21.0],
    };
    // In batches of 2 (2 + 2 + 1): the means are over cars, not over batches.
    let evaluation = train::evaluate(&model, &batcher, 2, &device);
    let (mae, mse) = (10.0 / 5.0, (4.0 + 4.0 + 25.0 + 0.0 + 1.0) / 5.0);
    assert!(
        (evaluation.get(Metric::Mae) - mae).abs() < 1e-6,
        "{evaluation:?}"
    );
    assert!(
        (evaluation.get(Metric::Mse) - mse).abs() < 1e-5,
        "{evaluation:?}"
    );
    assert!(
        (evaluation.loss() - mse).abs() < 1e-5,
        "the loss is the MSE"
    );
}

/// A model that predicts `epoch` for every car: which epoch's weights a model holds can be
/// read off its output.
fn model_of_epoch(epoch: usize) -> MpgModel {
    MpgModelConfig::new()
        .init(&Device::flex())
        .constant(epoch as f32)
}

fn prediction(model: &MpgModel) -> f32 {
    shared::floats(model.forward(Tensor::zeros([1, 9], &Device::flex())))[0]
}

#[test]
fn early_stopping_stops_at_the_right_epoch_and_restores_the_best_weights() {
    // Best at epoch 3; patience 3 → epochs 4, 5, 6 without improvement → stop after 6.
    // Epoch 5 (2.95) does not beat 2.9: only improvements count.
    let val_loss = [5.0, 4.0, 2.9, 3.5, 2.95, 3.1, 2.0, 1.0];
    let dir = tempfile::tempdir().unwrap();
    let mut early = EarlyStopping::new(EarlyStoppingConfig::new().with_patience(3))
        .unwrap()
        .keep_best_in(dir.path().join("restore.bpk"));
    let mut best_only =
        ModelCheckpoint::best_only(dir.path().join("best.bpk"), "val_loss").unwrap();
    let mut history = History::new(Task::Regression);
    let mut stopped = None;
    let mut model = model_of_epoch(0);
    for (i, loss) in val_loss.iter().enumerate() {
        let epoch = i + 1;
        model = model_of_epoch(epoch);
        let values: BTreeMap<String, f64> = [("loss", 1.0), ("mae", 1.0), ("mse", 1.0)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .chain([
                ("val_loss".into(), *loss),
                ("val_mae".into(), 1.0),
                ("val_mse".into(), *loss),
            ])
            .collect();
        history.epochs.push(EpochRecord {
            epoch,
            values,
            lr: 1e-3,
            seconds: 0.0,
            samples_per_second: 0.0,
        });
        Callback::on_epoch_end(&mut best_only, &model, &history).unwrap();
        if early.on_epoch_end(&model, &history).unwrap() == Control::Stop {
            stopped = Some(epoch);
            break;
        }
    }
    assert_eq!(stopped, Some(6));
    assert_eq!(early.stopped_epoch, Some(6));
    assert_eq!(
        prediction(&model),
        6.0,
        "before on_train_end: the last epoch's weights"
    );
    assert_eq!(early.on_train_end(&mut model, &history).unwrap(), Some(3));
    assert_eq!(
        prediction(&model),
        3.0,
        "restored: the best epoch's weights"
    );
    // The best-only checkpoint holds epoch 3 too.
    assert_eq!(best_only.saved_epoch, Some(3));
    let saved = model_of_epoch(0)
        .try_load_file(dir.path().join("best.bpk"))
        .unwrap();
    assert_eq!(prediction(&saved), 3.0);
}

fn lab() -> Command {
    common::lab(env!("CARGO_BIN_EXE_lab-mpg-earlystop"))
}

/// A `--quick` run in `out`: its stdout and its run folder.
fn quick_run(out: &Path, extra: &[&str]) -> (String, std::path::PathBuf) {
    let stdout = common::succeed(lab().args(["--quick", "--out"]).arg(out).args(extra));
    (stdout, common::only_run_folder(out, "mpg-earlystop"))
}

#[test]
fn quick_run_end_to_end() {
    let out = tempfile::tempdir().unwrap();
    let (stdout, run) = quick_run(out.path(), &[]);
    for text in [
        "392 cars (6 of 398 dropped): 251 train, 63 valid, 78 test (the tutorial's split",
        "ford pinto",
        "Total params: 4,865",
        "Part 1: overfitting",
        "Part 2: early stopping",
        "epoch 30/30",
        "overfit (과적합)",
        "early stopping (조기 종료)",
        "RMSprop (alpha 0.9",
    ] {
        assert!(stdout.contains(text), "{text} missing:\n{stdout}");
    }
    for file in [
        "config.json",
        "cars.csv",
        "normalisation.json",
        "initial.bpk",
        "results.json",
        "results.txt",
        "summary.txt",
        "early-stopping.png",
        "predictions.png",
        "errors.png",
        "overfit/config.json",
        "overfit/history.csv",
        "overfit/model.bpk",
        "overfit/curves.png",
        "early-stopping/config.json",
        "early-stopping/history.csv",
        "early-stopping/model.bpk",
        "early-stopping/best.bpk",
        "early-stopping/test_predictions.csv",
        "early-stopping/checkpoint/model.bpk",
    ] {
        assert!(
            run.join(file).exists(),
            "{file} missing in {}",
            run.display()
        );
    }
    // The history records loss, MAE and MSE, training and validation.
    let csv = std::fs::read_to_string(run.join("overfit/history.csv")).unwrap();
    assert!(
        csv.starts_with("epoch,loss,mae,mse,val_loss,val_mae,val_mse,"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 31);
    // Same first weights, same batches: the two parts' first epochs are identical.
    let first = |part: &str| {
        std::fs::read_to_string(run.join(part).join("history.csv"))
            .unwrap()
            .lines()
            .nth(1)
            .unwrap()
            .split(',')
            .take(7)
            .collect::<Vec<_>>()
            .join(",")
    };
    assert_eq!(first("overfit"), first("early-stopping"));
    // The checkpoint holds the weights the run ended with (the best epoch's).
    common::assert_same_weights(
        &run.join("early-stopping/best.bpk"),
        &run.join("early-stopping/model.bpk"),
    );
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap();
    let test_mae = results["early_stopping"]["test_mae"].as_f64().unwrap();
    assert!(test_mae < results["baseline_test_mae"].as_f64().unwrap());
}

#[test]
fn the_checkpoint_reloaded_in_a_fresh_process_gives_the_same_predictions() {
    let out = tempfile::tempdir().unwrap();
    let (stdout, run) = quick_run(out.path(), &["--epochs", "12"]);
    let exact = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("exact"))
        .unwrap()
        .trim()
        .to_string();
    assert!(exact.starts_with("test MAE "), "{exact}");

    // --run DIR --evaluate, and the newest run under --out by default.
    for args in [
        vec!["--run", run.to_str().unwrap()],
        vec!["--out", out.path().to_str().unwrap()],
    ] {
        let reloaded = common::succeed(lab().args(&args).arg("--evaluate"));
        assert!(
            reloaded.contains(&format!("{exact} on 78 test cars")),
            "{exact}\n{reloaded}"
        );
        assert!(reloaded.contains("bit-identical"), "{reloaded}");
    }

    // A tampered prediction file is noticed: the comparison is real.
    let file = run.join("early-stopping/test_predictions.csv");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[1] = format!("{},0.5", lines[1].rsplit_once(',').unwrap().0);
    std::fs::write(&file, lines.join("\n")).unwrap();
    let result = lab()
        .arg("--run")
        .arg(&run)
        .arg("--evaluate")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        !result.status.success() && stderr.contains("1 of 78 test predictions differ"),
        "{stderr}"
    );

    // --predict one car typed in, and the same car from a CSV file: the same MPG.
    let car = "cylinders=4,displacement=120,horsepower=95,weight=2400,acceleration=15,model_year=76,origin=Japan";
    let typed = common::succeed(lab().arg("--run").arg(&run).args(["--predict", car]));
    let csv = out.path().join("cars.csv");
    std::fs::write(
        &csv,
        "name,origin,model_year,acceleration,weight,horsepower,displacement,cylinders\n\
         \"my car\",japan,76,15,2400,95,120,4\n",
    )
    .unwrap();
    let from_file = common::succeed(lab().arg("--run").arg(&run).arg("--predict-file").arg(&csv));
    let mpg = |out: &str, name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: predicted ")))
            .unwrap_or_else(|| panic!("{out}"))
            .to_string()
    };
    assert_eq!(mpg(&typed, "car 1"), mpg(&from_file, "my car"));
}

#[test]
fn predict_refuses_bad_cars_with_a_message_naming_the_field() {
    let out = tempfile::tempdir().unwrap();
    let (_, run) = quick_run(out.path(), &["--epochs", "1"]);
    let good =
        "cylinders=4,displacement=120,horsepower=95,weight=2400,acceleration=15,model_year=76";
    for (car, says) in [
        (good.to_string(), "the field origin is missing"),
        (
            good.replace("horsepower=95,", ""),
            "the field horsepower is missing",
        ),
        (format!("{good},origin=Mars"), "unknown origin `Mars`"),
        (format!("{good},origin=4"), "unknown origin `4`"),
        (
            good.replace("weight=2400", "weight=heavy") + ",origin=USA",
            "the field weight is `heavy`, not a number",
        ),
        (
            good.replace("weight=2400", "weight=") + ",origin=USA",
            "the field weight is ``, not a number",
        ),
        (
            format!("{good},origin=USA,colour=red"),
            "unknown field `colour`",
        ),
        (
            format!("{good},origin=USA,cylinders=6"),
            "the field cylinders is given twice",
        ),
        ("cylinders 4".to_string(), "`cylinders 4` is not name=value"),
    ] {
        let result = lab()
            .arg("--run")
            .arg(&run)
            .args(["--predict", &car])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(1), "{car}: {stderr}");
        assert!(
            stderr.contains(says) && !stderr.contains("panicked"),
            "{car}: {stderr}"
        );
    }
    // A CSV with a bad line names the file's line.
    let csv = out.path().join("bad.csv");
    std::fs::write(
        &csv,
        format!(
            "{}\n4,120,95,2400,15,76,USA\n4,120,95,2400,15,76,Atlantis\n",
            data::CAR_FIELDS.join(",")
        ),
    )
    .unwrap();
    let result = lab()
        .arg("--run")
        .arg(&run)
        .arg("--predict-file")
        .arg(&csv)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("line 3") && stderr.contains("unknown origin `Atlantis`"),
        "{stderr}"
    );
}

#[test]
fn folders_that_are_not_runs_of_this_lab_are_refused_by_name() {
    let out = tempfile::tempdir().unwrap();
    let other = out.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let car = "cylinders=4,displacement=120,horsepower=95,weight=2400,acceleration=15,model_year=76,origin=USA";
    let expect = |args: &[&str], says: &str| {
        let result = lab().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(says) && !stderr.contains("panicked"),
            "{args:?}: {stderr}"
        );
    };
    let other_str = other.to_str().unwrap();
    expect(
        &["--run", other_str, "--evaluate"],
        "is not a run folder of mpg-earlystop",
    );
    // A run folder of another lab (its config.json does not fit).
    std::fs::write(
        other.join("config.json"),
        "{\"model\": {\"num_classes\": 10}}",
    )
    .unwrap();
    expect(
        &["--run", other_str, "--predict", car],
        "is not a run of mpg-earlystop",
    );
    expect(
        &["--out", out.path().to_str().unwrap(), "--evaluate"],
        "no runs in",
    );
    expect(&["--run", other_str], "add --evaluate or --predict");
    expect(
        &[
            "--split-seed",
            "3",
            "--quick",
            "--out",
            out.path().to_str().unwrap(),
        ],
        "--split-seed only applies to --split seeded",
    );
}

#[test]
fn a_resumed_run_continues_both_parts() {
    // Two epochs, resumed to three: both parts end with the weights of three epochs in one go.
    let out = tempfile::tempdir().unwrap();
    let (_, run) = quick_run(out.path(), &["--epochs", "2"]);
    let stdout = common::succeed(lab().arg("--resume").arg(&run).args(["--epochs", "3"]));
    assert_eq!(
        stdout.matches("resuming after epoch 2").count(),
        2,
        "{stdout}"
    );
    let straight = tempfile::tempdir().unwrap();
    let (_, other) = quick_run(straight.path(), &["--epochs", "3"]);
    for part in ["overfit", "early-stopping"] {
        common::assert_same_weights(
            &run.join(part).join("model.bpk"),
            &other.join(part).join("model.bpk"),
        );
    }
}
