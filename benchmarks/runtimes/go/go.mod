module sysgate/runtimes/go

go 1.19
