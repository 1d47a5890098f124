//! Controllers for StatefulSets, DaemonSets, Jobs, CronJobs, HorizontalPodAutoscalers,
//! PersistentVolumeClaims, PodDisruptionBudgets and Argo Rollouts.

use super::{Controller, Ctx};

/// See the module docs.
#[derive(Default)]
pub struct WorkloadControllers;

impl Controller for WorkloadControllers {
    fn name(&self) -> &'static str {
        "workload-controllers"
    }

    fn reconcile(&mut self, _ctx: &Ctx<'_>) {}
}
