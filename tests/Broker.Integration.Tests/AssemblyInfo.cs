using Xunit;

// Every test starts its own broker process and real client processes; on a 2-core machine running them in
// parallel makes timings flaky, so the whole assembly runs one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
