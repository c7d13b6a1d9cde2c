package users

// Permanent exposes permanent to the table test of which failures end a job.
var Permanent = permanent
