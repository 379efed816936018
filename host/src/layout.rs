//! Where things are inside the invocation image: the CNAB layout Porter
//! uses (`/cnab/app` for the bundle, `/cnab/app/outputs` for outputs,
//! `/cnab/bundle.json`). One place, because the Dockerfile, bundle.json,
//! the build arguments and the `run` entrypoint must agree on it.

/// Expands to the bundle directory as a literal, so the constants below and
/// [`RUN_SCRIPT`] can be built from it at compile time.
macro_rules! app_dir {
    () => {
        "/cnab/app"
    };
}

/// Porter's part of the image: the bundle directory, bundle.json, the
/// Dockerfile it was built with.
pub const CNAB_DIR: &str = "/cnab";

/// The bundle's directory in the image (Porter's `BUNDLE_DIR`); relative
/// paths in porter.yaml are resolved against it.
pub const APP_DIR: &str = app_dir!();

/// Where CNAB runtimes collect outputs (Porter's `config.BundleOutputsDir`).
pub const OUTPUTS_DIR: &str = concat!(app_dir!(), "/outputs");

/// The entrypoint: the CNAB runtime contract runs it.
pub const RUN_PATH: &str = concat!(app_dir!(), "/run");

/// The entrypoint's content: porter's runtime, run on the manifest the
/// image carries. `sh`, not bash: a base image may have nothing else.
pub const RUN_SCRIPT: &str = concat!(
    "#!/bin/sh\nset -e\n\nexport PORTER_HOME=",
    app_dir!(),
    "\nexec ",
    app_dir!(),
    "/runtimes/porter-runtime run -f ",
    app_dir!(),
    "/porter.yaml \"$@\"\n"
);
