/** The calling thread's CPU time in ms (Linux /proc), undefined elsewhere. */
export declare const threadCpuMs: () => number | undefined;
