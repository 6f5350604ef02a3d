//! What a context-aware policy asks the cluster, answered from the repository: every object
//! of the run (and the configuration's context files) stands for the cluster, as if everything
//! else were already applied and the object under evaluation were being created. Also the
//! capabilities that need no cluster (certificate checks) and kwctl's recorded sessions.

mod answers;
mod certificates;
mod images;
mod kubernetes;
mod rbac;
mod repository;
mod selectors;
mod session;

pub use answers::{ContextAnswers, Grant};
pub use images::Images;
pub use repository::{Repository, RepositoryBuilder, subject_id};
pub use session::{Recorder, Replay};
