import NIOCore
import NIOPosix

/// Runs Swift tasks on one NIO event loop: the loop's `SerialExecutor` offered as a task
/// executor preference (`Task(executorPreference:)`, `withTaskExecutorPreference`).
///
/// A task that awaits many calls of a client whose connections live on the same loop is resumed
/// where its answer arrived, with no switch to another thread and back. The loop must never be
/// blocked: such a task must not wait on locks held for long or on blocking system calls.
public final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    public let eventLoop: EventLoop

    public init(_ eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    /// An executor on the next loop of NIO's shared group.
    public static func next() -> EventLoopTaskExecutor {
        EventLoopTaskExecutor(MultiThreadedEventLoopGroup.singleton.next())
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
