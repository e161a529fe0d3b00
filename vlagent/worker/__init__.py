"""The background agent: one inference worker (OCR + model, jobs by priority), the folder
watcher beside it, the single-instance lock and retention."""

from vlagent.worker.agent import Agent
from vlagent.worker.ask import AskAnswer, AskHandle
from vlagent.worker.inference import InferenceWorker, WorkerStopped
from vlagent.worker.lock import AlreadyRunning, InstanceLock
from vlagent.worker.status import WorkerStatus

__all__ = ["Agent", "AskAnswer", "AskHandle", "InferenceWorker", "WorkerStopped", "AlreadyRunning",
           "InstanceLock", "WorkerStatus"]
