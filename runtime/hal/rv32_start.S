/* Start-up for qemu-system-riscv32 -machine virt -bios none -smp N: every hart starts at
 * the image's first instruction. Hart 0 continues into picolibc's _start; the others get a
 * stack and park until main has started the cluster (ares_rv32_go, set by ares_hal_init),
 * then serve forks in ares_rv32_worker. They spin instead of sleeping: wfi with a software
 * interrupt hangs under -icount. */
  .section .text.init.enter, "ax"
  .globl _ares_entry
_ares_entry:
  .insn i 0x73, 2, t0, x0, -236  /* csrr t0, mhartid (0xF14): no zicsr needed in -march */
  beqz  t0, 2f
  .option push
  .option norelax
  la    gp, __global_pointer$
  .option pop
  la    sp, ares_rv32_stacks
  li    t1, 16384
  mul   t2, t0, t1
  add   sp, sp, t2            /* top of hart t0's stack: stacks + hart * 16 KiB */
  mv    s0, t0
1:
  la    t3, ares_rv32_go
  lw    t4, 0(t3)
  beqz  t4, 1b
  mv    a0, s0
  call  ares_rv32_worker
  j     1b
2:
  j     _start

  .bss
  .align 4
  .globl ares_rv32_stacks
ares_rv32_stacks:             /* 16 KiB per hart 1..7, growing down from hart * 16 KiB */
  .space 16384 * 8
