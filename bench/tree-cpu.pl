#!/usr/bin/perl
# Runs a command and prints, as the last line of stderr, the CPU seconds of its whole process tree: every descendant,
# orphans included. The runner's command hosts and their shells outlive its process by a moment, so `time` (which
# counts only what its child waited for) misses them; made a child subreaper (prctl PR_SET_CHILD_SUBREAPER), this
# process inherits and waits for every one. Linux only; exits 3 where prctl is not known for the machine.
use strict;
use warnings;
use Config;

my %prctl = (x86_64 => 157, aarch64 => 167);
my ($arch) = $Config{archname} =~ /^(x86_64|aarch64)/;
exit 3 unless $^O eq 'linux' && $arch;
syscall($prctl{$arch}, 36, 1, 0, 0, 0) == 0 or exit 3;

my $pid = fork() // die "fork: $!";
if ($pid == 0) { exec @ARGV or die "exec: $!" }
my $status;
while ((my $done = wait()) != -1) { $status = $? if $done == $pid }
my (undef, undef, $user, $system) = times;
printf STDERR "%.3f\n", $user + $system;
exit($status >> 8 || ($status & 127 ? 1 : 0));
